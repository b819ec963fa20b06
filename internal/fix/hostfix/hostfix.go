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
	// Inventory: the hosts come from an inventory file (what a host must
	// declare goes into its entry there).
	Inventory bool
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
			r = &fix.Result{Rule: id, Target: in.Target, Status: fix.Manual}
			r.Say(why + fix.FirstSentence(p.failing[id].Remediation))
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
		r.Say(summary)
		for _, t := range todo {
			r.Todo = appendOnce(r.Todo, t)
		}
		return r
	}
	r := &fix.Result{Rule: rule, Target: p.in.Target, Status: st, Todo: todo}
	r.Say(summary)
	p.results[rule] = r
	return r
}

// inInventory says where a host declares what the inventory format
// holds (expected_ports, cluster_members, allowed_sources).
func (p *planner) inInventory() string {
	if p.opt.Inventory {
		return "in this host's inventory entry"
	}
	return "in an inventory entry for this host (local: true), then run rampart fix @inventory.yaml instead of local"
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
