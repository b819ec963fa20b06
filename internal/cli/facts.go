package cli

import (
	"context"
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/facts"
)

// factsOutput is what `rampart facts` prints: the target's facts, and the
// facts of the targets it led to (product homes found on a host, services
// found on a node).
type factsOutput struct {
	*facts.Facts
	Discovered []*facts.Facts `json:"discovered,omitempty"`
}

func (a *app) factsCmd() *cobra.Command {
	o := &collectOpts{}
	var format, output string
	cmd := &cobra.Command{
		Use:   "facts TARGET",
		Short: "Print the facts the collectors gather about a target, unjudged",
		Long: `Print the facts rampart's collectors gather about TARGET, before any rule
judges them: the input rules see, for writing and debugging rules.`,
		Example: `  rampart facts 127.0.0.1:8443 --format json | jq .tls.versions
  rampart facts /opt/wso2is-7.1.0 | jq .product.keystores`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "json" {
				return usageErr("--format %q: facts are printed as json", format)
			}
			if err := o.validate(); err != nil {
				return err
			}
			ts, err := o.targets(args)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			all := a.scanner(o).Collect(ctx, ts)
			return writeOutput(output, a.stdout, func(w io.Writer) error { return encodeFacts(w, ts[0].Name, all) })
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "output format: json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	o.register(cmd)
	return cmd
}

// encodeFacts prints the facts of the named target first, the rest as
// discovered. An inventory argument has no single first target: then every
// target is listed under discovered.
func encodeFacts(w io.Writer, first string, all []*facts.Facts) error {
	out := factsOutput{Facts: &facts.Facts{}}
	for _, f := range all {
		if f.Target.Name == first && out.Facts.Target.Name == "" {
			out.Facts = f
			continue
		}
		out.Discovered = append(out.Discovered, f)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
