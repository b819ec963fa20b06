package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/rules"
	builtin "github.com/rampart-sec/rampart/rules"
)

// seedDocuments are the source documents the built-in rules cite.
var seedDocuments = []string{
	"000_ac7d4e9b0ef493c1.txt", "001_1ac9c93b587140e7.txt", "002_59975fbdf82e5d56.txt",
	"003_20a90e2815269245.txt", "004_62d1773820cb134b.txt",
}

// ruleOpts select rules: extra rule directories, and IDs to run or skip.
type ruleOpts struct {
	dirs []string
	only []string
	skip []string
}

func (o *ruleOpts) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.dirs, "rules", nil, "directory of custom rule files (*.yaml) to add to the built-in rules (repeatable)")
	f.StringSliceVar(&o.only, "only", nil, "run only these rule IDs (comma-separated; * and ? match, as in 'TLS-*,KEY-00?')")
	f.StringSliceVar(&o.skip, "skip", nil, "skip these rule IDs (comma-separated; * and ? match)")
}

// loadRules loads the built-in rules and the custom rule directories.
func (a *app) loadRules(o *ruleOpts) (*rules.Set, error) {
	sources := []rules.Source{{Name: "built-in", FS: builtin.FS, Trusted: true}}
	for _, d := range o.dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, usageErr("--rules: %v", err)
		}
		if !fi.IsDir() {
			return nil, usageErr("--rules %s: not a directory", d)
		}
		sources = append(sources, rules.Source{Name: d, FS: os.DirFS(d)})
	}
	set, err := rules.Load(sources...)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return set, nil
}

func (a *app) rulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show, test and lint rules",
		Example: `  rampart rules list
  rampart rules list --format json | jq -r '.[].id'
  rampart rules show TLS-004
  rampart rules test ./my-rules
  rampart rules lint ./my-rules`,
	}
	cmd.AddCommand(a.rulesListCmd(), a.rulesShowCmd(), a.rulesTestCmd(), a.rulesLintCmd())
	return cmd
}

func (a *app) rulesListCmd() *cobra.Command {
	o := &ruleOpts{}
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the rules (built-in and --rules)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			set, err := a.loadRules(o)
			if err != nil {
				return err
			}
			list, unknown := set.Filter(o.only, o.skip)
			if len(unknown) > 0 {
				return usageErr("unknown rules: %s", strings.Join(unknown, ", "))
			}
			switch format {
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ruleViews(list))
			case "text":
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tCHECKS\tTITLE")
				for _, r := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, strings.Join(r.Kinds(), ","), r.Title)
				}
				return tw.Flush()
			}
			return usageErr("--format %q: want text or json", format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	o.register(cmd)
	return cmd
}

// ruleView is a rule as `rules list --format json` shows it.
type ruleView struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Domain      string   `json:"domain"`
	Checks      []string `json:"checks"`
	Profiles    []string `json:"profiles"`
	Sources     []string `json:"sources"`
	Requires    []string `json:"requires"`
	Remediation string   `json:"remediation"`
	References  []string `json:"references"`
	File        string   `json:"file"`
}

func ruleViews(list []*rules.Rule) []ruleView {
	out := make([]ruleView, 0, len(list))
	for _, r := range list {
		v := ruleView{
			ID: r.ID, Title: r.Title, Severity: r.Severity.String(), Domain: r.Domain, Checks: r.Kinds(),
			Profiles: nonNil(r.Profiles), Sources: nonNil(r.Sources), Requires: []string{},
			Remediation: strings.TrimSpace(r.Remediation), References: nonNil(r.References), File: r.File,
		}
		seen := map[string]bool{}
		for _, c := range r.Checks {
			for _, req := range c.Requires {
				if !seen[req] {
					seen[req] = true
					v.Requires = append(v.Requires, req)
				}
			}
		}
		out = append(out, v)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *app) rulesShowCmd() *cobra.Command {
	o := &ruleOpts{}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one rule: its checks, expressions, remediation and sources",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			set, err := a.loadRules(o)
			if err != nil {
				return err
			}
			r, ok := set.Get(args[0])
			if !ok {
				return usageErr("no rule %s (see rampart rules list)", args[0])
			}
			w := a.stdout
			fmt.Fprintf(w, "%s  %s\n", r.ID, r.Title)
			fmt.Fprintf(w, "severity: %s   domain: %s   file: %s:%d\n", r.Severity, r.Domain, r.File, r.Line)
			if len(r.Profiles) > 0 {
				fmt.Fprintf(w, "profiles: %s\n", strings.Join(r.Profiles, ", "))
			}
			fmt.Fprintf(w, "sources:  %s\n", strings.Join(r.Sources, ", "))
			for i, c := range r.Checks {
				fmt.Fprintf(w, "\ncheck %d: %s", i+1, c.Kind)
				if c.Partial {
					fmt.Fprint(w, " (partial)")
				}
				fmt.Fprintln(w)
				if len(c.Requires) > 0 {
					fmt.Fprintf(w, "  requires: %s\n", strings.Join(c.Requires, ", "))
				}
				for _, kv := range [][2]string{{"when", c.When}, {"assert", c.Assert}, {"message", c.Message}} {
					if kv[1] != "" {
						fmt.Fprintf(w, "  %s: %s\n", kv[0], strings.TrimSpace(kv[1]))
					}
				}
			}
			fmt.Fprintf(w, "\nremediation:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Remediation), "\n", "\n  "))
			if len(r.References) > 0 {
				fmt.Fprintf(w, "\nreferences:\n  %s\n", strings.Join(r.References, "\n  "))
			}
			fmt.Fprintf(w, "\ntests: %d\n", len(r.Tests))
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// testSet loads the rules to test or lint: those in dir when given, else
// the built-in ones.
func (a *app) testSet(args []string) (*rules.Set, error) {
	if len(args) == 0 {
		return a.loadRules(&ruleOpts{})
	}
	fi, err := os.Stat(args[0])
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if !fi.IsDir() {
		return nil, usageErr("%s: not a directory", args[0])
	}
	set, err := rules.Load(rules.Source{Name: args[0], FS: os.DirFS(args[0])})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return set, nil
}

// compiledSet loads the rules to test or lint and compiles every one of
// them (built-in rules otherwise compile on first use), so a broken
// expression is reported, with all the others, before any test runs.
func (a *app) compiledSet(args []string) (*rules.Set, error) {
	set, err := a.testSet(args)
	if err != nil {
		return nil, err
	}
	if probs := set.CompileAll(); len(probs) > 0 {
		return nil, usageErr("%s", strings.Join(probs, "\n"))
	}
	return set, nil
}

func (a *app) rulesTestCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the rules' inline tests (the built-in rules, or the rule files in DIR)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			set, err := a.compiledSet(args)
			if err != nil {
				return err
			}
			results := rules.RunTests(set.Rules())
			failed := 0
			for _, r := range results {
				if r.OK {
					if verbose {
						fmt.Fprintf(a.stdout, "ok    %s %s\n", r.RuleID, r.Test)
					}
					continue
				}
				failed++
				fmt.Fprintf(a.stdout, "FAIL  %s:%d: %s %q: want %s, got %s: %s\n", r.File, r.Line, r.RuleID, r.Test, r.Want, r.Got, r.Message)
			}
			fmt.Fprintf(a.stdout, "%d rules, %d tests, %d failed\n", len(set.Rules()), len(results), failed)
			if failed > 0 {
				return exitCode(ExitFindings, errors.New("rule tests failed"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list passing tests too")
	return cmd
}

func (a *app) rulesLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Check rules for completeness: tests both ways, remediation, sources, consistent IDs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			set, err := a.compiledSet(args)
			if err != nil {
				return err
			}
			opt := rules.LintOptions{}
			if len(args) == 0 {
				opt.Seeds = seedDocuments
			}
			problems := rules.LintRules(set.Rules(), opt)
			for _, p := range problems {
				fmt.Fprintln(a.stdout, p.String())
			}
			if len(problems) > 0 {
				return exitCode(ExitFindings, fmt.Errorf("%d lint problem(s)", len(problems)))
			}
			fmt.Fprintf(a.stdout, "%d rules, no problems\n", len(set.Rules()))
			return nil
		},
	}
}
