package cli

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/collect"
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
	var only []string
	cmd := &cobra.Command{
		Use:   "facts TARGET",
		Short: "Print the facts the collectors gather about a target, unjudged",
		Long: `Print the facts rampart's collectors gather about TARGET, before any rule
judges them: the input rules see, for writing and debugging rules.`,
		Example: `  rampart facts 127.0.0.1:8443 --format json | jq .tls.versions
  rampart facts https://127.0.0.1:8443/ --collectors tls
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
			s := a.scanner(o)
			if len(only) > 0 {
				kept, err := selectCollectors(s.Collectors, only)
				if err != nil {
					return err
				}
				s.Collectors = kept
			}
			all := s.Collect(ctx, ts)
			return writeOutput(output, a.stdout, func(w io.Writer) error { return encodeFacts(w, ts[0].Name, all) })
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "output format: json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringSliceVar(&only, "collectors", nil, "run only these collectors (comma-separated: wso2, tls, http, ssh, ports, hostos), e.g. to time one")
	o.registerCollect(cmd)
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

// selectCollectors keeps the collectors named in names.
func selectCollectors(cs []collect.Collector, names []string) ([]collect.Collector, error) {
	var out []collect.Collector
	known := map[string]bool{}
	for _, c := range cs {
		known[c.Name()] = true
		if slices.Contains(names, c.Name()) {
			out = append(out, c)
		}
	}
	for _, n := range names {
		if !known[n] {
			all := make([]string, 0, len(cs))
			for _, c := range cs {
				all = append(all, c.Name())
			}
			return nil, usageErr("--collectors: no collector %q (have %s)", n, strings.Join(all, ", "))
		}
	}
	return out, nil
}
