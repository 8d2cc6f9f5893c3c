package runbook

import "strings"

// suggest returns the candidate closest to word by edit distance, or "" when
// none is close enough to be a plausible typo.
func suggest(word string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(word, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	n := len([]rune(word))
	if bestD < 0 || bestD > max(1, n/3) || bestD >= n {
		return ""
	}
	return best
}

// didYouMean formats suggest's answer as a hint, "" when there is none.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return "did you mean " + s + "?"
	}
	return ""
}

// didYouMeanOrList is didYouMean, else the candidates (the first few)
// as the names to choose from.
func didYouMeanOrList(word string, candidates []string) string {
	if h := didYouMean(word, candidates); h != "" || len(candidates) == 0 {
		return h
	}
	const shown = 8
	if len(candidates) > shown {
		return "one of: " + strings.Join(candidates[:shown], ", ") + ", …"
	}
	return "one of: " + strings.Join(candidates, ", ")
}

// distance is the optimal-string-alignment edit distance between a and b
// in runes: insertions, deletions, substitutions and adjacent swaps.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
