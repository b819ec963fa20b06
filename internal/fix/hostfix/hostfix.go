// Package hostfix plans the fixes of a Linux host as files the operator
// installs: an sshd drop-in, an nftables ruleset built from what the
// inventory declares, audit rules, file modes, and the package commands to
// run. Each generated configuration is checked with the real tool (sshd -t,
// nft -c) before it is shown; nothing is run on the host otherwise.
package hostfix

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
)

// Options are the operator's inputs.
type Options struct {
	// ManagementNets may reach SSH (and JMX); without them SSH stays open
	// to every source and SSH-005 needs them.
	ManagementNets []string
	// SSHPort moves sshd off port 22 (SSH-001); 0 asks for it.
	SSHPort int
	// Validator checks generated files with the real tools.
	Validator Validator
}

// Input is a host and what its scan found.
type Input struct {
	Target string
	// Root is the host's root directory ("/" for this machine).
	Root     string
	Facts    *facts.Facts
	Findings []finding.Finding
}

type planner struct {
	in       Input
	opt      Options
	ws       *fix.Workspace
	h        *facts.Host
	failing  map[string]finding.Finding
	results  map[string]*fix.Result
	validate []string
}

// Plan plans a host's fixes.
func Plan(in Input, opt Options) (*fix.Plan, error) {
	if in.Facts == nil || in.Facts.Host == nil {
		return nil, fmt.Errorf("%s: no host facts to fix from", in.Target)
	}
	p := &planner{in: in, opt: opt, h: in.Facts.Host, ws: fix.NewWorkspace(in.Target, in.Root),
		failing: map[string]finding.Finding{}, results: map[string]*fix.Result{}}
	for _, f := range in.Findings {
		if f.Status == finding.Fail {
			p.failing[f.RuleID] = f
		}
	}
	plan := &fix.Plan{}
	if len(p.failing) == 0 {
		return plan, nil
	}
	for _, step := range []func() error{p.sshd, p.firewall, p.audit, p.packages, p.fileModes} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Target, err)
		}
	}
	changes, err := p.ws.Changes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Target, err)
	}
	plan.Changes = changes
	plan.Validations = p.validate
	for _, c := range fix.ReadOnly(changes) {
		for _, r := range c.Rules {
			if p.fails(r) {
				p.set(r, fix.Failed, fmt.Sprintf("%s is read-only (mode %04o): make it writable for this fix", c.Path, c.Mode))
			}
		}
	}
	ids := make([]string, 0, len(p.failing))
	for id := range p.failing {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, ok := p.results[id]
		if !ok {
			why := "no safe automatic fix on the host: "
			if strings.HasPrefix(id, "TLS-") {
				why = "the running product's JVM flags come from its start script, which the product home's own fix changes when it is in reach: "
			}
			r = &fix.Result{Rule: id, Target: in.Target, Status: fix.Manual, Summary: why + firstSentence(p.failing[id].Remediation)}
		}
		plan.Results = append(plan.Results, *r)
	}
	return plan, nil
}

func (p *planner) fails(rule string) bool {
	_, ok := p.failing[rule]
	return ok
}

// set records a rule's result; a worse status than one recorded wins.
func (p *planner) set(rule string, st fix.Status, summary string, todo ...string) *fix.Result {
	rank := map[fix.Status]int{fix.Fixed: 0, fix.NeedsInput: 1, fix.Manual: 2, fix.Failed: 3}
	if r, ok := p.results[rule]; ok {
		if rank[st] > rank[r.Status] {
			r.Status = st
		}
		if !strings.Contains(r.Summary, summary) {
			r.Summary += "; " + summary
		}
		for _, t := range todo {
			r.Todo = appendOnce(r.Todo, t)
		}
		return r
	}
	r := &fix.Result{Rule: rule, Target: p.in.Target, Status: st, Summary: summary, Todo: todo}
	p.results[rule] = r
	return r
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// rel turns an absolute host path into one relative to the root.
func rel(p string) string { return strings.TrimPrefix(path.Clean(p), "/") }

// fileModes takes the other users' access away from the product's
// configuration and secret files (SEC-005, SEC-006).
func (p *planner) fileModes() error {
	rules := []string{}
	for _, r := range []string{"SEC-005", "SEC-006"} {
		if p.fails(r) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil
	}
	var done []string
	for _, f := range p.h.SecretFiles {
		if !f.WorldReadable {
			continue
		}
		if !p.fails("SEC-006") && !(f.Kind == "secret" || f.Kind == "keystore") {
			continue
		}
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil {
			continue
		}
		nm := fs.FileMode(m) &^ 0o007
		if err := p.ws.Chmod(rel(f.Path), nm, strings.Join(rules, ","), fmt.Sprintf("mode %s -> %04o (others lose access)", f.Mode, nm)); err != nil {
			return err
		}
		done = append(done, f.Path)
	}
	for _, r := range rules {
		if len(done) > 0 {
			p.set(r, fix.Fixed, "others lose access to "+strings.Join(done, ", "),
				"the product's user must own these files or be in their group: chown -R the product home to its service account")
		}
	}
	return nil
}
