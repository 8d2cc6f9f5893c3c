package protocols

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/lockstep-run/lockstep/runbook"
)

// Explanation is what a protocol's leading comment says about it. A
// catalog protocol's comment is one paragraph whose sentences start with
// the markers "When:", "Strategy:", "Risks:" and "Adapt:"; the text before the
// first marker is the About part.
type Explanation struct {
	About    string `json:"about"`
	When     string `json:"when,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	Risks    string `json:"risks,omitempty"`
	Adapt    string `json:"adapt,omitempty"` // what to change in a copy
}

// explanationMarkers are the markers Explain splits on, in the order a
// protocol writes them.
var explanationMarkers = []string{"When:", "Strategy:", "Risks:", "Adapt:"}

// Explain splits the leading comment of src into its parts.
func Explain(src []byte) Explanation {
	text := summary(src)
	parts := map[string]string{}
	cur := ""
	for len(text) > 0 {
		next, at := "", len(text)
		for _, m := range explanationMarkers {
			if i := strings.Index(text, m); i >= 0 && i < at {
				next, at = m, i
			}
		}
		parts[cur] += strings.TrimSpace(text[:at])
		if next == "" {
			break
		}
		cur, text = next, text[at+len(next):]
	}
	return Explanation{About: parts[""], When: parts["When:"], Strategy: parts["Strategy:"], Risks: parts["Risks:"], Adapt: parts["Adapt:"]}
}

// Render writes the protocol called name for a reader: its title, when to
// choose it, its strategy and risks, its environments, the variables it
// reads, and its phases and steps. The YAML itself is `protocols show
// NAME --source`.
func Render(w io.Writer, name string) error {
	src, err := Source(name)
	if err != nil {
		return err
	}
	rb, err := Get(name)
	if err != nil {
		return err
	}
	ex := Explain(src)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s — %s\n", rb.Name, rb.Title)
	fmt.Fprintf(tw, "version %d, %s\n\n", rb.Version, rb.Strategy)
	for _, p := range []struct{ label, text string }{
		{"About", ex.About}, {"When", ex.When}, {"Strategy", ex.Strategy}, {"Risks", ex.Risks}, {"Adapt", ex.Adapt},
	} {
		if p.text != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", p.label, p.text)
		}
	}
	fmt.Fprintln(tw)
	for _, e := range rb.Environments {
		kind := "no store"
		if e.Store != nil {
			kind = e.Store.Kind
		}
		if e.Protected {
			kind += ", protected"
		}
		fmt.Fprintf(tw, "Environment:\t%s (%s)\n", e.Name, kind)
	}
	refs := rb.EnvRefs()
	sort.Strings(refs)
	fmt.Fprintf(tw, "Reads:\t%s\n\n", strings.Join(refs, ", "))
	for _, ph := range rb.Phases {
		fmt.Fprintf(tw, "%s\n", ph.Name)
		for _, st := range ph.Steps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", st.ID, stepKind(st), firstLine(st.Text))
		}
	}
	fmt.Fprintf(tw, "\nThe runbook: lockstep protocols show %s --source\n", name)
	fmt.Fprintf(tw, "Your own copy: lockstep protocols new MY-NAME --from %s -o FILE\n", name)
	return tw.Flush()
}

// stepKind is the step's kind with its marks: destructive, conditional.
func stepKind(st *runbook.Step) string {
	k := string(st.Kind)
	if st.Destructive {
		k += " (destructive)"
	}
	if st.When != nil {
		k += " (when)"
	}
	return k
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
