// Package fix turns failing findings into the changes that make them pass:
// edits of a product's own files (deployment.toml, log4j2.properties,
// XML, start scripts), new files (keystores, an sshd drop-in, a firewall
// ruleset), each attributed to the rules it fixes, reviewable as a diff
// and applied atomically with backups. The planners live in wso2fix and
// hostfix; this package holds what they share: the plan, the workspace
// that reads a target's files once and collects the edits, and apply and
// undo.
package fix

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix/edit"
)

// Status is what fix can do for one failing rule.
type Status string

const (
	// Fixed: the plan's changes make the rule pass.
	Fixed Status = "fixed"
	// NeedsInput: a fix exists but needs a value only the operator has
	// (a host name, a port offset); Inputs names the flags.
	NeedsInput Status = "needs_input"
	// Manual: no safe automatic fix exists; Summary says why and what to do.
	Manual Status = "manual"
	// Failed: a fix should apply but cannot (an unreadable keystore, a
	// missing password); nothing is written while any fix has failed.
	Failed Status = "error"
)

// Result is the outcome for one rule on one target.
type Result struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	Status Status `json:"status"`
	// Summary is Details joined with "; " (one line, for logs and tools
	// that read only it).
	Summary string `json:"summary"`
	// Details are the summary's clauses, each a whole statement: what the
	// plan does, what it leaves and why.
	Details []string `json:"details,omitempty"`
	// Inputs are the flags a needs_input fix wants ("--hostname NAME").
	Inputs []string `json:"inputs,omitempty"`
	// Todo is what the operator must still do after applying (restart the
	// product, enter the keystore password at start-up, get the CSR signed).
	Todo []string `json:"todo,omitempty"`
	// Commands are what the operator runs (fix runs nothing on a host):
	// package removals and upgrades, service reloads.
	Commands []string `json:"commands,omitempty"`
	// Packages is a package change in structured form (for Ansible).
	Packages *PackageChange `json:"packages,omitempty"`
}

// Say adds a clause to the result's details (once) and keeps Summary in
// step with them.
func (r *Result) Say(clause string) {
	if clause == "" || slices.Contains(r.Details, clause) {
		return
	}
	if len(r.Details) == 0 && r.Summary != "" {
		r.Details = []string{r.Summary}
	}
	r.Details = append(r.Details, clause)
	r.Summary = strings.Join(r.Details, "; ")
}

// PackageChange is packages to remove or upgrade with a package manager.
type PackageChange struct {
	Manager string   `json:"manager"` // dpkg (apt-get), rpm (dnf), apk
	Remove  []string `json:"remove,omitempty"`
	Upgrade []string `json:"upgrade,omitempty"`
}

// Action is what a change does to its file.
type Action string

const (
	Edit   Action = "edit"   // surgical edits of an existing text file
	Create Action = "create" // a new file
	// Replace rewrites an existing binary file (a truststore).
	Replace Action = "replace"
	// Chmod changes only a file's mode.
	Chmod Action = "chmod"
)

// Change is one file's new content.
type Change struct {
	Target string `json:"target"`
	// Root is the directory Path is relative to (the product home, the
	// host's root).
	Root   string `json:"root"`
	Path   string `json:"file"`
	Action Action `json:"action"`
	Binary bool   `json:"binary,omitempty"`
	Mode   uint32 `json:"mode"`
	// ModeBefore is an existing file's mode when it was read (0 for a new
	// file); Mode differs from it when the change sets a new mode.
	ModeBefore uint32 `json:"mode_before,omitempty"`
	// Hash is the SHA-256 (hex) of the content read at planning time;
	// apply refuses a file whose content changed since. Empty for a new
	// file, which must not exist when applied.
	Hash   string   `json:"sha256_before,omitempty"`
	Rules  []string `json:"rules"`
	Before []byte   `json:"-"`
	After  []byte   `json:"-"`
	// Edits are a text change's replacements with their rules and lines.
	Edits []edit.Record `json:"edits,omitempty"`
	// Summary says what a binary change or a new file holds.
	Summary string `json:"summary,omitempty"`
}

// Reveal is a generated secret the operator must learn: printed once,
// when the change holding it is applied, never in a dry run or a report.
type Reveal struct {
	Target string
	What   string
	Value  string
}

// Note is something true of a whole target that its results share (it is
// said once, not on every rule).
type Note struct {
	Target string `json:"target"`
	Text   string `json:"text"`
}

// Plan is every result and change of one run.
type Plan struct {
	Results []Result
	Changes []*Change
	Reveals []Reveal
	Notes   []Note
	// Validations say which real tool checked a generated file
	// ("sshd -t: ok", or why a check could not run).
	Validations []string
}

// Add merges another plan (of another target) into p.
func (p *Plan) Add(o *Plan) {
	if o == nil {
		return
	}
	p.Results = append(p.Results, o.Results...)
	p.Changes = append(p.Changes, o.Changes...)
	p.Reveals = append(p.Reveals, o.Reveals...)
	p.Notes = append(p.Notes, o.Notes...)
	p.Validations = append(p.Validations, o.Validations...)
}

// Sort orders results by target and rule, changes by target and path.
func (p *Plan) Sort() {
	sort.SliceStable(p.Results, func(i, j int) bool {
		a, b := p.Results[i], p.Results[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Rule < b.Rule
	})
	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i], p.Changes[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Path < b.Path
	})
}

// MergeChanges joins changes of one file that different targets' plans
// asked for (a host's file modes and its product home's edits): a mode
// change folds into the content change. Two content changes of one file
// are refused.
func (p *Plan) MergeChanges() error {
	byPath := map[string]*Change{}
	var out []*Change
	for _, c := range p.Changes {
		k := path.Join(c.Root, c.Path)
		prev, ok := byPath[k]
		if !ok {
			byPath[k] = c
			out = append(out, c)
			continue
		}
		switch {
		case c.Action == Chmod:
			prev.Mode = c.Mode
			prev.Rules = mergeRules(prev.Rules, c.Rules)
		case prev.Action == Chmod:
			c.Mode = prev.Mode
			c.Rules = mergeRules(c.Rules, prev.Rules)
			*prev = *c
		default:
			return fmt.Errorf("%s: two fixes change it (%s and %s); fix one target at a time", k, strings.Join(prev.Rules, ", "), strings.Join(c.Rules, ", "))
		}
	}
	p.Changes = out
	return nil
}

func mergeRules(a, b []string) []string {
	out := append([]string{}, a...)
	for _, r := range b {
		found := false
		for _, x := range out {
			found = found || x == r
		}
		if !found {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// Count is how many results have status s.
func (p *Plan) Count(s Status) int {
	n := 0
	for _, r := range p.Results {
		if r.Status == s {
			n++
		}
	}
	return n
}

// Failed lists the results in error.
func (p *Plan) Failed() []Result {
	var out []Result
	for _, r := range p.Results {
		if r.Status == Failed {
			out = append(out, r)
		}
	}
	return out
}

// Nothing reports that there was nothing to fix.
func (p *Plan) Nothing() bool { return len(p.Results) == 0 && len(p.Changes) == 0 }

// ReadOnly lists the changes whose existing file has no write permission
// now: --apply refuses them (a fix does not chmod a file to change its
// content; a mode-only change needs no write permission).
func ReadOnly(changes []*Change) []*Change {
	var out []*Change
	for _, c := range changes {
		if needsWrite(c) && c.ModeBefore&0o222 == 0 {
			out = append(out, c)
		}
	}
	return out
}

// needsWrite: the change rewrites an existing file's content.
func needsWrite(c *Change) bool { return c.Action == Edit || c.Action == Replace }

// RefuseReadOnly makes every result whose fix changes a read-only file an
// error naming the file, so --apply writes nothing (all-or-nothing); it
// returns the read-only changes.
func (p *Plan) RefuseReadOnly() []*Change {
	ro := ReadOnly(p.Changes)
	for _, c := range ro {
		why := fmt.Sprintf("not written: %s is read-only (mode %04o)", c.Path, c.ModeBefore)
		for i := range p.Results {
			r := &p.Results[i]
			if r.Target != c.Target || !slices.Contains(c.Rules, r.Rule) {
				continue
			}
			r.Status = Failed
			r.Say(why)
		}
	}
	return ro
}

// FirstSentence is the first sentence of a remediation text, on one line
// (what the summary quotes when no automatic fix exists). "e.g.", "i.e."
// and "etc." do not end a sentence.
func FirstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	from := 0
	for {
		i := strings.Index(s[from:], ". ")
		if i < 0 {
			return s
		}
		end := from + i
		word := s[strings.LastIndexByte(s[:end], ' ')+1 : end]
		switch strings.ToLower(strings.Trim(word, "(")) {
		case "e.g", "i.e", "etc", "cf", "vs":
			from = end + 2
			continue
		}
		if end == 0 {
			return s
		}
		return s[:end+1]
	}
}
