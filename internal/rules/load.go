package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// maxRuleFileSize bounds one rule file; the largest built-in one is a few
// tens of kilobytes.
const maxRuleFileSize = 4 << 20

// Source is a set of rule files: the embedded built-in rules or a user's
// directory.
type Source struct {
	// Name is shown in errors ("built-in", or the directory).
	Name string
	FS   fs.FS
	// Trusted marks rules shipped with rampart: reviewed, tested, and
	// bounded by the sizes collectors enforce. Their expressions run
	// without a per-evaluation cost tracker, which costs a quarter of the
	// judging time; every other source's rules run under a cost limit, so
	// a custom rule with a runaway expression ends in error, not a stall.
	Trusted bool
}

// LoadError gathers every problem found while loading and compiling rules,
// so a rule author sees all of them at once.
type LoadError struct{ Problems []string }

func (e *LoadError) Error() string {
	return fmt.Sprintf("%d problem(s) in rule files:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Load reads every *.yaml and *.yml file of the sources, compiles every
// expression and returns the rule set, or a *LoadError listing all
// problems.
func Load(sources ...Source) (*Set, error) {
	var probs []string
	var all []*Rule
	trusted := map[*Rule]bool{}
	for _, src := range sources {
		rs, p := loadSource(src)
		for _, r := range rs {
			trusted[r] = src.Trusted
		}
		all = append(all, rs...)
		probs = append(probs, p...)
	}
	byID := map[string]*Rule{}
	for _, r := range all {
		if prev, ok := byID[r.ID]; ok {
			probs = append(probs, fmt.Sprintf("%s:%d: rule %s already defined at %s:%d", r.File, r.Line, r.ID, prev.File, prev.Line))
			continue
		}
		byID[r.ID] = r
	}
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	// Compiling is most of the load time (parsing and type-checking some
	// 250 expressions); rules compile independently and a cel.Env is safe
	// for concurrent use, so custom rules are compiled in parallel, every
	// problem reported at once, in the rules' order. Built-in rules compile
	// lazily (see Check.ready) and CompileAll checks them all.
	perRule := make([][]string, len(all))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := all[i]
				perRule[i] = validate(r)
				if trusted[r] {
					// Built-in rules compile on first use (Check.ready).
					for j, c := range r.Checks {
						if c != nil {
							c.bind(env, r, j, true)
						}
					}
					continue
				}
				perRule[i] = append(perRule[i], compileRule(env, r, false)...)
			}
		}()
	}
	for i := range all {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, p := range perRule {
		probs = append(probs, p...)
	}
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return &Set{rules: all, byID: byID}, nil
}

func loadSource(src Source) ([]*Rule, []string) {
	var names []string
	err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", src.Name, err)}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, []string{fmt.Sprintf("%s: no rule files (*.yaml)", src.Name)}
	}
	var rules []*Rule
	var probs []string
	for _, n := range names {
		display := n
		if src.Name != "" {
			display = path.Join(src.Name, n)
		}
		rs, err := loadFile(src.FS, n, display, src.Trusted)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		rules = append(rules, rs...)
	}
	return rules, probs
}

func loadFile(fsys fs.FS, name, display string, trusted bool) ([]*Rule, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	if fi.Size() > maxRuleFileSize {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit for a rule file", display, fi.Size(), maxRuleFileSize)
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	// The node tree gives each rule and test its line. Built-in rules are
	// decoded from it directly; anyone else's are decoded a second time,
	// strictly, so a misspelt key is an error (the built-in files are held
	// to that by their tests, which load them the strict way too).
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("%s: empty rule file", display)
	}
	var f File
	if trusted {
		if err := doc.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", display, err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: empty rule file", display)
			}
			return nil, fmt.Errorf("%s: %w", display, err)
		}
	}
	lines := ruleLines(&doc)
	if f.Domain == "" {
		return nil, fmt.Errorf("%s: missing domain", display)
	}
	for i, r := range f.Rules {
		if r == nil {
			return nil, fmt.Errorf("%s: rule %d is empty", display, i+1)
		}
		r.Domain = f.Domain
		r.File = display
		if i < len(lines) {
			r.Line = lines[i].rule
			for j, t := range r.Tests {
				if t != nil && j < len(lines[i].tests) {
					t.Line = lines[i].tests[j]
				}
			}
		}
	}
	return f.Rules, nil
}

type ruleLine struct {
	rule  int
	tests []int
}

// ruleLines finds the line of each rule and of each of its tests.
func ruleLines(doc *yaml.Node) []ruleLine {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	top := mapValue(doc.Content[0], "rules")
	if top == nil || top.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]ruleLine, 0, len(top.Content))
	for _, rn := range top.Content {
		rl := ruleLine{rule: rn.Line}
		if tn := mapValue(rn, "tests"); tn != nil && tn.Kind == yaml.SequenceNode {
			for _, t := range tn.Content {
				rl.tests = append(rl.tests, t.Line)
			}
		}
		out = append(out, rl)
	}
	return out
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
