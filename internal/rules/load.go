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

	"github.com/rampart-sec/rampart/internal/hint"
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
	// Files, when set, are the only files of FS read (a rule file given by
	// name rather than a directory).
	Files []string
	// Compiled, when set, is what WriteCompiled made from these rule
	// files; when it was made from them as they are, rules and checked
	// expressions come from it (the rules then have no inline tests:
	// `rules test` and `rules lint` leave Compiled empty).
	Compiled string
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
	set, probs := LoadAll(sources...)
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	return set, nil
}

// LoadAll is Load that returns the rules it could read along with every
// problem, so `rules lint` reports the problems of the files and of the
// rules together. The set holds every rule that was read, problems or not.
func LoadAll(sources ...Source) (*Set, []string) {
	var probs []string
	var all []*Rule
	trusted := map[*Rule]bool{}
	checked := map[*Rule]*checkedExprs{}
	for _, src := range sources {
		rs, x, ok := loadCompiled(src)
		var p []string
		if !ok {
			rs, p = loadSource(src)
		}
		for _, r := range rs {
			trusted[r] = src.Trusted
			if ok {
				checked[r] = x // validated when the compiled file was made
			}
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
	env := &lazyEnv{}
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
				if checked[r] == nil {
					perRule[i] = validate(r)
				}
				if trusted[r] {
					// Built-in rules compile on first use (Check.ready).
					for j, c := range r.Checks {
						if c != nil {
							c.bind(env, r, j, true)
							c.checked = checked[r]
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
	kept := make([]*Rule, 0, len(byID))
	for _, r := range all {
		if byID[r.ID] == r {
			kept = append(kept, r)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID })
	return &Set{rules: kept, byID: byID}, probs
}

func loadSource(src Source) ([]*Rule, []string) {
	var names []string
	var err error
	if len(src.Files) > 0 {
		names = append(names, src.Files...)
	} else {
		err = walkRuleFiles(src, &names)
	}
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
		rs, p := loadFile(src.FS, n, display, src.Trusted)
		probs = append(probs, p...)
		rules = append(rules, rs...)
	}
	return rules, probs
}

func walkRuleFiles(src Source, names *[]string) error {
	return fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			*names = append(*names, p)
		}
		return nil
	})
}

// loadFile reads one rule file: its rules, and every problem found in it
// (an unknown key does not stop the rest of the file from being checked).
func loadFile(fsys fs.FS, name, display string, trusted bool) ([]*Rule, []string) {
	fail := func(err error) ([]*Rule, []string) { return nil, []string{display + ": " + err.Error()} }
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return fail(err)
	}
	if fi.Size() > maxRuleFileSize {
		return fail(fmt.Errorf("%d bytes is over the %d-byte limit for a rule file", fi.Size(), maxRuleFileSize))
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fail(err)
	}
	// The node tree gives each rule, test and expression its line. Rules
	// are decoded from it; anyone else's are decoded a second time,
	// strictly, so a misspelt key is a problem (the built-in files are held
	// to that by their tests, which load them the strict way too).
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fail(hint.YAML(err, data, File{}))
	}
	if doc.Kind == 0 {
		return fail(errors.New("empty rule file"))
	}
	var f File
	if err := doc.Decode(&f); err != nil {
		return fail(hint.YAML(err, data, File{}))
	}
	var probs []string
	if !trusted {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		var strict File
		if err := dec.Decode(&strict); err != nil && !errors.Is(err, io.EOF) {
			probs = append(probs, display+": "+hint.YAML(err, data, File{}).Error())
		}
	}
	lines := ruleLines(&doc)
	if f.Domain == "" {
		probs = append(probs, display+": missing domain")
	}
	var rules []*Rule
	for i, r := range f.Rules {
		if r == nil {
			probs = append(probs, fmt.Sprintf("%s: rule %d is empty", display, i+1))
			continue
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
			for j, c := range r.Checks {
				if c != nil && j < len(lines[i].checks) {
					c.lines = lines[i].checks[j]
				}
			}
		}
		rules = append(rules, r)
	}
	return rules, probs
}

type ruleLine struct {
	rule   int
	tests  []int
	checks []exprLines
}

// exprLines are where a check's expressions are written: the line of each
// field's value ("assert", "evidence[1]"), and whether it is a block
// scalar (| or >), whose text starts on the next line.
type exprLines map[string]exprLine

type exprLine struct {
	line  int
	block bool
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
		if cn := mapValue(rn, "checks"); cn != nil && cn.Kind == yaml.SequenceNode {
			for _, c := range cn.Content {
				rl.checks = append(rl.checks, checkLines(c))
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

// checkLines records where each expression of a check mapping is written.
func checkLines(c *yaml.Node) exprLines {
	out := exprLines{}
	if c.Kind != yaml.MappingNode {
		return out
	}
	at := func(n *yaml.Node) exprLine {
		return exprLine{line: n.Line, block: n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0}
	}
	for i := 0; i+1 < len(c.Content); i += 2 {
		key, val := c.Content[i].Value, c.Content[i+1]
		if key == "evidence" && val.Kind == yaml.SequenceNode {
			for j, e := range val.Content {
				out[fmt.Sprintf("evidence[%d]", j)] = at(e)
			}
			continue
		}
		out[key] = at(val)
	}
	return out
}
