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
	Rule    string `json:"rule"`
	Target  string `json:"target"`
	Status  Status `json:"status"`
	Summary string `json:"summary"`
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

// Plan is every result and change of one run.
type Plan struct {
	Results []Result
	Changes []*Change
	Reveals []Reveal
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

// ReadOnly lists the changes whose file has no write permission: the
// fixes that need them cannot be applied (a fix does not chmod a file to
// change it).
func ReadOnly(changes []*Change) []*Change {
	var out []*Change
	for _, c := range changes {
		if c.Action != Create && c.Action != Chmod && c.Mode&0o222 == 0 {
			out = append(out, c)
		}
	}
	return out
}
