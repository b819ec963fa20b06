package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/hint"
	"github.com/rampart-sec/rampart/internal/rules"
	builtin "github.com/rampart-sec/rampart/rules"
)

// seedDocuments are the source documents the built-in rules cite, with
// their titles (what `rules show` names them by).
var seedDocuments = []struct{ file, title string }{
	{"000_ac7d4e9b0ef493c1.txt", "Network-Level Security Guidelines for Production Deployment"},
	{"001_1ac9c93b587140e7.txt", "OS-Level Security Guidelines for Production Deployment"},
	{"002_59975fbdf82e5d56.txt", "Security Guidelines for Production Deployment (ESB runtime)"},
	{"003_20a90e2815269245.txt", "Security Implementation and Recommendations"},
	{"004_62d1773820cb134b.txt", "Production Deployment Guidelines"},
}

func seedFiles() []string {
	out := make([]string, len(seedDocuments))
	for i, d := range seedDocuments {
		out[i] = d.file
	}
	return out
}

// sourceTitle names a rule's source for people: a seed document by its
// title, anything else ("hardening: ...") as written.
func sourceTitle(src string) string {
	for _, d := range seedDocuments {
		if d.file == src {
			return d.title
		}
	}
	return src
}

// ruleOpts select rules: extra rule directories, and IDs to run or skip.
type ruleOpts struct {
	dirs []string
	only []string
	skip []string
}

func (o *ruleOpts) register(cmd *cobra.Command, a *app) {
	f := cmd.Flags()
	f.StringArrayVar(&o.dirs, "rules", nil, "custom rule file (*.yaml) or directory of them to add to the built-in rules (repeatable)")
	f.StringSliceVar(&o.only, "only", nil, "run only these rule IDs (comma-separated, any case; * and ? match, as in 'TLS-*,KEY-00?')")
	f.StringSliceVar(&o.skip, "skip", nil, "skip these rule IDs (comma-separated, any case; * and ? match)")
	_ = cmd.RegisterFlagCompletionFunc("only", a.ruleIDCompletion(o, true))
	_ = cmd.RegisterFlagCompletionFunc("skip", a.ruleIDCompletion(o, true))
}

// ruleSource is a --rules argument as a rule source: a directory, or one
// file of its directory.
func ruleSource(p string) (rules.Source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return rules.Source{}, usageErr("--rules: %v", err)
	}
	if fi.IsDir() {
		return rules.Source{Name: p, FS: os.DirFS(p)}, nil
	}
	if !fi.Mode().IsRegular() {
		return rules.Source{}, usageErr("--rules %s: not a rule file or directory", p)
	}
	dir, file := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	return rules.Source{Name: filepath.Clean(dir), FS: os.DirFS(dir), Files: []string{file}}, nil
}

// ruleIDCompletion completes rule IDs (the last of a comma-separated list
// when list is set), from the built-in rules and any --rules given.
func (a *app) ruleIDCompletion(o *ruleOpts, list bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		set, err := a.loadRules(o)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		prefix, last := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); list && i >= 0 {
			prefix, last = toComplete[:i+1], toComplete[i+1:]
		}
		var out []string
		for _, r := range set.Rules() {
			if strings.HasPrefix(r.ID, strings.ToUpper(last)) {
				out = append(out, prefix+r.ID+"\t"+r.Title)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// loadRules loads the built-in rules (from their compiled form when it is
// fresh: without their inline tests) and the custom rule directories.
func (a *app) loadRules(o *ruleOpts) (*rules.Set, error) {
	return a.loadRuleSources(o, rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled})
}

func (a *app) loadRuleSources(o *ruleOpts, builtinSrc rules.Source) (*rules.Set, error) {
	sources := []rules.Source{builtinSrc}
	for _, d := range o.dirs {
		src, err := ruleSource(d)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
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
			list, err := filterRules(set, o)
			if err != nil {
				return err
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
	o.register(cmd, a)
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
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return a.ruleIDCompletion(o, false)(cmd, args, toComplete)
		},
		RunE: func(_ *cobra.Command, args []string) error {
			// From the files: show counts the rule's inline tests.
			set, err := a.loadRuleSources(o, rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true})
			if err != nil {
				return err
			}
			r, ok := set.Get(strings.ToUpper(args[0]))
			if !ok {
				return usageErr("no rule %s%s (see rampart rules list)", args[0], hint.DidYouMean(strings.ToUpper(args[0]), set.IDs()))
			}
			w := a.stdout
			fmt.Fprintf(w, "%s  %s\n", r.ID, r.Title)
			fmt.Fprintf(w, "severity: %s   domain: %s   file: %s:%d\n", r.Severity, r.Domain, r.File, r.Line)
			if len(r.Profiles) > 0 {
				fmt.Fprintf(w, "profiles: %s\n", strings.Join(r.Profiles, ", "))
			}
			fmt.Fprintln(w, "sources:")
			for _, src := range r.Sources {
				fmt.Fprintf(w, "  %s\n", sourceTitle(src))
			}
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
	o.register(cmd, a)
	return cmd
}

// testSet loads the rules to test or lint: those in dir when given, else
// the built-in ones.
func (a *app) testSet(args []string) (*rules.Set, error) {
	if len(args) == 0 {
		// The built-in rules with their inline tests: read from the files.
		return a.loadRuleSources(&ruleOpts{}, rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	}
	src, err := ruleSource(args[0])
	if err != nil {
		return nil, err
	}
	set, err := rules.Load(src)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return set, nil
}

// filterRules applies --only and --skip, IDs in any case; a name that
// matches no rule is an error with the closest ID.
func filterRules(set *rules.Set, o *ruleOpts) ([]*rules.Rule, error) {
	upper := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = strings.ToUpper(strings.TrimSpace(s))
		}
		return out
	}
	list, unknown := set.Filter(upper(o.only), upper(o.skip))
	if len(unknown) == 0 {
		return list, nil
	}
	var parts []string
	for _, u := range unknown {
		parts = append(parts, u+strings.TrimPrefix(hint.DidYouMean(u, set.IDs()), ";"))
	}
	return nil, usageErr("--only/--skip name unknown rules: %s", strings.Join(parts, ", "))
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
		Use:   "test [DIR|FILE]",
		Short: "Run the rules' inline tests (the built-in rules, or the rule files in DIR, or FILE)",
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
		Use:   "lint [DIR|FILE]",
		Short: "Check rules for every problem at once: YAML keys, structure, CEL expressions, tests both ways, remediation, sources",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			src := rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true}
			opt := rules.LintOptions{Seeds: seedFiles()}
			if len(args) > 0 {
				var err error
				if src, err = ruleSource(args[0]); err != nil {
					return err
				}
				opt = rules.LintOptions{}
			}
			// Every problem at once: the files' (keys, structure, CEL at
			// the expression's line), then the rules' completeness.
			set, problems := rules.LoadAll(src)
			problems = append(problems, set.CompileAll()...)
			for _, p := range rules.LintRules(set.Rules(), opt) {
				problems = append(problems, p.String())
			}
			problems = dedupe(problems)
			for _, p := range problems {
				fmt.Fprintln(a.stdout, p)
			}
			if len(problems) > 0 {
				return exitCode(ExitFindings, fmt.Errorf("%d problem(s)", len(problems)))
			}
			fmt.Fprintf(a.stdout, "%d rules, no problems\n", len(set.Rules()))
			return nil
		},
	}
}

// dedupe drops repeated problems (a compile problem LoadAll and CompileAll
// both return), keeping the order.
func dedupe(ps []string) []string {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
