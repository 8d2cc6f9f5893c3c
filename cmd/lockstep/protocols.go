package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/protocols"
)

// protocolsOptions are the inputs of `lockstep protocols`.
type protocolsOptions struct {
	f *factory

	Name   string
	Output string
	Force  bool
	Format string
	Source bool   // show: the YAML instead of the rendered protocol
	From   string // new: the protocol to start from
	Store  string // new: dynamodb | sqlite | postgres
}

func newCmdProtocols(f *factory) *cobra.Command {
	listOpts := &protocolsOptions{f: f, Format: "text"}
	cmd := &cobra.Command{
		Use:   "protocols [list | show NAME | new NAME [--from PROTOCOL] [--store KIND] -o FILE]",
		Short: "The catalog of built-in migration protocols",
		Long: `Built-in protocols are runbooks for common migrations with their best
strategy. Run one by name ("lockstep run NAME --env ENV"), read when to
choose it, its strategy and its risks with "show", or start your own
runbook from it with "new".`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runProtocolsList(listOpts) },
	}
	cmd.AddCommand(newCmdProtocolsList(f), newCmdProtocolsShow(f), newCmdProtocolsNew(f))
	return cmd
}

func newCmdProtocolsList(f *factory) *cobra.Command {
	opts := &protocolsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in protocols",
		Args:  usageArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runProtocolsList(opts) },
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

func runProtocolsList(opts *protocolsOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	list := protocols.List()
	if opts.Format == "json" {
		if list == nil {
			list = []protocols.Info{}
		}
		return writeJSON(opts.f.Out, list)
	}
	tw := tabwriter.NewWriter(opts.f.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTRATEGY\tTITLE")
	for _, p := range list {
		title := p.Title
		if p.Err != "" {
			title = "(does not parse: " + p.Err + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Strategy, title)
	}
	return tw.Flush()
}

func newCmdProtocolsShow(f *factory) *cobra.Command {
	opts := &protocolsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Explain a built-in protocol: when to choose it, strategy, risks, steps",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runProtocolsShow(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Source, "source", false, "print the protocol's runbook (YAML) instead")
	return cmd
}

func runProtocolsShow(opts *protocolsOptions) error {
	src, err := protocols.Source(opts.Name)
	if err != nil {
		return usageError(err)
	}
	if !opts.Source {
		return protocols.Render(opts.f.Out, opts.Name)
	}
	_, err = opts.f.Out.Write(src)
	return err
}

func newCmdProtocolsNew(f *factory) *cobra.Command {
	opts := &protocolsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "new NAME [--from PROTOCOL] [--store dynamodb|sqlite|postgres] -o FILE",
		Short: "Start a new runbook NAME: from a built-in protocol, else a generic starter",
		Long: `Writes a ready-to-edit runbook. With --from it is the protocol's runbook,
named NAME, under a header naming the protocol (learnings of runbooks
started from a protocol are gathered with the protocol's too). --store picks
the protocol's variant for that store (add-attribute --store dynamodb is
dynamodb-add-attribute), or the generic starter's store. Without --from, a
NAME that is a built-in protocol starts from that protocol.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runProtocolsNew(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "file to write (required)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite FILE if it exists")
	cmd.Flags().StringVar(&opts.From, "from", "", "built-in protocol to start from")
	cmd.Flags().StringVar(&opts.Store, "store", "", "store kind: dynamodb, sqlite or postgres")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func runProtocolsNew(opts *protocolsOptions) error {
	src := protocols.Skeleton(opts.Name)
	if opts.From != "" || opts.Store != "" {
		var err error
		if src, err = protocols.SkeletonFrom(opts.Name, opts.From, opts.Store); err != nil {
			return usageError(err)
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	out, err := os.OpenFile(opts.Output, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageError(fmt.Errorf("%s already exists: choose another -o FILE or pass --force", opts.Output))
	}
	if err != nil {
		return fmt.Errorf("write runbook: %w", err)
	}
	if _, err := out.Write(src); err != nil {
		out.Close()
		return fmt.Errorf("write runbook: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write runbook: %w", err)
	}
	fmt.Fprintf(opts.f.ErrOut, "wrote %s — edit it, then: lockstep lint %s\n", opts.Output, opts.Output)
	return nil
}
