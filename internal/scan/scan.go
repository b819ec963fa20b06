// Package scan runs a scan: for each target it runs the collectors, finds
// the targets it leads to (the product homes on a host, the services on a
// node), judges the facts with the rules and applies waivers and
// attestations. It owns the order of things and nothing else: collecting,
// judging and rendering live in their own packages.
package scan

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/waiver"
)

// Scanner holds everything one scan needs. Build it in the CLI (or a
// test) and call Run.
type Scanner struct {
	Collectors []collect.Collector
	Rules      []*rules.Rule
	Env        collect.Env
	// Scan holds the thresholds and the intrusive flag; Now is set from
	// Env's clock when the scan starts.
	Scan facts.Scan
	// Timeout is the scan's deadline as it was given (--timeout), for
	// saying why unfinished targets are in error; the deadline itself is
	// the context's. Zero: the span up to the context's deadline.
	Timeout time.Duration
	// Concurrency is how many targets are scanned at once.
	Concurrency int
	Exceptions  *waiver.Set
	// Role, when set, overrides every target's declared role (--role).
	Role string
	// Profile, when set, forces every target's profile (--profile).
	Profile string
	// Tool names rampart in the report.
	Tool finding.Tool
	// Progress, when set, is called after each target finishes.
	Progress func(done, total int, name string)
	// Warn, when set, is told what the user should know about the
	// input (a forced profile the files contradict); it may be called from
	// several goroutines at once.
	Warn func(msg string)
	// DropFacts lets Run release each target's facts once it is judged
	// (Result.Facts stays empty): a fleet's report then never holds the
	// facts of every target at once.
	DropFacts bool
	// SpillFindings keeps judged targets' findings in a temporary file
	// (finding.Spill) rather than memory: the report's Findings stay empty
	// and its Spilled holds them; the caller closes the report. Used by
	// fleet scans, whose findings would otherwise be most of their memory.
	// When the file cannot be created the findings stay in memory.
	SpillFindings bool
}

// Result is a finished scan: the report and the facts behind it, in the
// report's target order.
type Result struct {
	Report *finding.Report
	Facts  []*facts.Facts
}

type unit struct {
	t      target.Target
	parent string
}

type done struct {
	unit
	facts    *facts.Facts
	findings []finding.Finding
	info     finding.TargetInfo
	// children are the targets this one leads to (none when it did not
	// finish).
	children []target.Target
}

// Run scans targets and the targets they lead to. When ctx ends (the
// scan's deadline, an interrupt), every target not finished is still in
// the report, with its rules in error saying why ("timed out after 2s
// before this target finished"), and the report is marked interrupted.
func (s *Scanner) Run(ctx context.Context, targets []target.Target) *Result {
	now := s.Env.Clock()
	report := &finding.Report{
		SchemaVersion: finding.SchemaVersion,
		Tool:          s.Tool,
		StartedAt:     now.UTC(),
		Targets:       []finding.TargetInfo{},
		Findings:      []finding.Finding{},
	}
	sc := s.Scan
	sc.Now = now.UTC()
	s.shareHostLimit()

	var spill *finding.Spill
	if s.SpillFindings {
		var err error
		if spill, err = finding.NewSpill(""); err != nil {
			s.Env.Log().Warn("keeping the findings in memory", "err", err)
		}
	}
	// Preparing the rules is of no use once every target is judged.
	pctx, stopPreparing := context.WithCancel(ctx)
	prepared := s.prepare(pctx, targets)
	results := s.collectAll(ctx, targets, sc, true, time.Now(), spill)
	stopPreparing()
	prepared.Wait()
	res := &Result{Report: report}
	report.Spilled = spill
	n := 0
	for _, d := range results {
		n += len(d.findings)
	}
	report.Findings = make([]finding.Finding, 0, n)
	for i := range results {
		report.Targets = append(report.Targets, results[i].info)
		report.Findings = append(report.Findings, results[i].findings...)
		results[i].findings = nil // one copy of a fleet's findings is enough
	}
	report.Interrupted = stopped(ctx)
	report.FinishedAt = s.Env.Clock().UTC()
	report.Finalize()
	if s.DropFacts {
		return res
	}
	byName := map[string]*facts.Facts{}
	for _, d := range results {
		byName[d.t.Name] = d.facts
	}
	for _, ti := range report.Targets {
		res.Facts = append(res.Facts, byName[ti.Name])
	}
	return res
}

// Collect gathers the facts of targets (and the targets they lead to)
// without judging them.
func (s *Scanner) Collect(ctx context.Context, targets []target.Target) []*facts.Facts {
	sc := s.Scan
	sc.Now = s.Env.Clock().UTC()
	s.shareHostLimit()
	var out []*facts.Facts
	for _, d := range s.collectAll(ctx, targets, sc, false, time.Now(), nil) {
		out = append(out, d.facts)
	}
	return out
}

// prepare compiles, in the background, the rule checks the targets' kinds
// and collectors can lead to (rules.Prepare): the collectors mostly wait
// on the network, and judging then starts with its programs ready.
func (s *Scanner) prepare(ctx context.Context, targets []target.Target) *sync.WaitGroup {
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, t := range targets {
		var provided []string
		for _, c := range s.Collectors {
			if c.Applies(t) {
				provided = append(provided, c.Provides()...)
			}
		}
		sort.Strings(provided)
		key := string(t.Kind) + ":" + strings.Join(provided, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		wg.Go(func() {
			// A panic compiling a check is Judge's to meet again and
			// report on its target (safeOne), not to end the scan.
			defer func() {
				if p := recover(); p != nil {
					s.Env.Log().Error("preparing the rules panicked", "panic", p, "stack", string(debug.Stack()))
				}
			}()
			rules.Prepare(ctx, s.Rules, Offers(t.Kind), provided)
		})
	}
	return &wg
}

// shareHostLimit gives every target of the scan one per-host connection
// limiter (Env.PerHost, widening up to Env.PerHostMax for hosts that
// answer fast), so many endpoints of one machine share its budget.
func (s *Scanner) shareHostLimit() {
	if s.Env.Hosts == nil && s.Env.PerHost > 0 {
		s.Env.Hosts = collect.NewAdaptiveHostLimiter(s.Env.PerHost, s.Env.PerHostMax, 0)
	}
}

// collectAll works through a queue of targets with bounded concurrency;
// targets found along the way join the queue. Results come back sorted by
// target name. With spill, each target's findings go to it once judged.
//
// Concurrency workers take the targets in the order they were submitted:
// a target waiting its turn is an entry of the queue, not a goroutine (a
// fleet of 10,000 endpoints would otherwise hold 10,000 stacks).
func (s *Scanner) collectAll(ctx context.Context, targets []target.Target, sc facts.Scan, judge bool, began time.Time, spill *finding.Spill) []done {
	workers := s.Concurrency
	if workers < 1 {
		workers = 4
	}
	var (
		mu    sync.Mutex
		ready = sync.NewCond(&mu) // a unit was queued, or the last one finished
		queue []unit
		// pending counts the units submitted and not finished.
		pending int
		out     []done
		seen    = map[string]bool{}
		total   int
		msgs    = messages{}
	)
	submit := func(u unit) {
		mu.Lock()
		defer mu.Unlock()
		if seen[u.t.Name] {
			return
		}
		seen[u.t.Name] = true
		total++
		pending++
		queue = append(queue, u)
		ready.Signal()
	}
	// next waits for a unit to scan; false once every unit is finished.
	next := func() (unit, bool) {
		mu.Lock()
		defer mu.Unlock()
		for len(queue) == 0 && pending > 0 {
			ready.Wait()
		}
		if len(queue) == 0 {
			return unit{}, false
		}
		u := queue[0]
		queue[0] = unit{}
		queue = queue[1:]
		return u, true
	}
	scanOne := func(u unit) {
		var d done
		if stopped(ctx) {
			// The deadline passed (or the scan was interrupted) before
			// this target started: it is in the report, every rule it
			// would have been judged by in error, never silently gone.
			d = s.unfinished(u, sc, judge, s.stopReason(ctx, began)+" before this target was scanned")
		} else {
			d = s.safeOne(ctx, u, sc, judge)
			if stopped(ctx) {
				// Cut short: whatever its collectors returned may be
				// partial, so none of it may pass.
				d = s.unfinished(u, sc, judge, s.stopReason(ctx, began)+" before this target finished")
			}
		}
		children := d.children
		d.children = nil
		if judge && s.DropFacts {
			d.facts = nil
		}
		mu.Lock()
		msgs.intern(d.findings)
		if spill != nil {
			// An error is kept by the spill (Report.Err): the report
			// is then not trusted.
			if err := spill.Add(d.findings); err == nil {
				d.findings = nil
			}
		}
		out = append(out, d)
		n, tot := len(out), total+len(children)
		mu.Unlock()
		// The children join the queue before this unit counts as
		// finished: the workers cannot run out of work meanwhile.
		for _, c := range children {
			submit(unit{t: c, parent: u.t.Name})
		}
		mu.Lock()
		pending--
		if pending == 0 {
			ready.Broadcast()
		}
		mu.Unlock()
		if s.Progress != nil {
			s.Progress(n, tot, u.t.Name)
		}
	}
	for _, t := range targets {
		submit(unit{t: t})
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				u, ok := next()
				if !ok {
					return
				}
				scanOne(u)
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].t.Name < out[j].t.Name })
	return out
}

// messages keeps one copy of each finding message of a run: a fleet's
// hundreds of thousands of findings say a few hundred different things
// ("an endpoint offers no file evidence"), each made afresh by Judge.
type messages map[string]string

func (m messages) intern(fs []finding.Finding) {
	for i := range fs {
		if c, ok := m[fs[i].Message]; ok {
			fs[i].Message = c
		} else {
			m[fs[i].Message] = fs[i].Message
		}
	}
}

// safeOne is one, with a panic anywhere in collecting, expanding or
// judging turned into a target whose facts failed: an internal error
// costs that target its verdicts, never the scan.
func (s *Scanner) safeOne(ctx context.Context, u unit, sc facts.Scan, judge bool) (d done) {
	defer func() {
		if p := recover(); p != nil {
			s.Env.Log().Error("scanning a target panicked", "target", u.t.Name, "panic", p, "stack", string(debug.Stack()))
			d = s.unfinished(u, sc, judge, fmt.Sprintf("internal error (panic): %v", p))
		}
	}()
	d = s.one(ctx, u, sc, judge)
	d.children = Expand(u.t, d.facts)
	if judge {
		d.info = targetInfo(d.t, d.parent, d.facts)
	}
	return d
}

// unfinished is a target that could not be scanned to the end, for
// reason: every fact namespace its kind needs is marked failed with the
// reason, so each rule that would judge it ends in error (not applicable
// stays not applicable: profile and kind still decide that).
func (s *Scanner) unfinished(u unit, sc facts.Scan, judge bool, reason string) done {
	t := u.t
	if s.Role != "" {
		t.Decl.Role = s.Role
	}
	if s.Profile != "" {
		t.Profile = s.Profile
	}
	f := &facts.Facts{Target: t.Facts(), Scan: sc}
	for _, ns := range collect.Expected(t.Kind) {
		f.SetStatus(ns, facts.Status{State: facts.Failed, Reason: reason})
	}
	f.Target.Profiles = profiles(t, f)
	d := done{unit: unit{t: t, parent: u.parent}, facts: f}
	if judge {
		d.findings = rules.Judge(s.Rules, rules.Input{Facts: f, Offers: Offers(t.Kind)})
		s.Exceptions.Apply(d.findings, sc.Now)
		d.info = targetInfo(d.t, d.parent, d.facts)
	}
	return d
}

// stopped reports whether the scan must stop: ctx is done, or its
// deadline has passed. The second matters: a connection whose I/O deadline
// is the scan's deadline fails with "i/o timeout" a moment before the
// context's own timer closes Done, and a target ended that way was cut
// short by the deadline, not finished (its partial facts must not pass).
func stopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// stopReason says why ctx ended (or, when stopped saw its deadline pass
// before Done closed, that it timed out): the scan's deadline, given as the
// --timeout it came from, or an interrupt.
func (s *Scanner) stopReason(ctx context.Context, began time.Time) string {
	if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if s.Timeout > 0 {
			return "timed out after " + s.Timeout.String() + " (the scan's deadline)"
		}
		if dl, ok := ctx.Deadline(); ok {
			return "timed out after " + roundDuration(dl.Sub(began)) + " (the scan's deadline)"
		}
		return "timed out (the scan's deadline)"
	}
	return "the scan was interrupted"
}

// roundDuration prints a timeout the way it was most likely given: the
// scan starts a moment after its deadline was set, so the measured span is
// a hair short of it.
func roundDuration(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return ((d + time.Millisecond - 1) / time.Millisecond * time.Millisecond).String()
}

// one collects and (optionally) judges a single target.
func (s *Scanner) one(ctx context.Context, u unit, sc facts.Scan, judge bool) done {
	t := u.t
	if s.Role != "" {
		t.Decl.Role = s.Role
	}
	if s.Profile != "" {
		t.Profile = s.Profile
	}
	env := s.Env
	base := &facts.Facts{Target: t.Facts(), Scan: sc}
	f := collect.Run(ctx, t, s.Collectors, &env, base)
	f.Target.Profiles = profiles(t, f)
	running(t, f)
	if f.Product != nil && f.Product.DetectedProfile != "" && s.Warn != nil {
		what := f.Product.DetectedProfile
		if f.Product.Version != "" {
			what += " (version " + f.Product.Version + ")"
		}
		s.Warn(fmt.Sprintf("%s: judged as %s as asked, but its files show %s", t.Name, t.Profile, what))
	}
	d := done{unit: unit{t: t, parent: u.parent}, facts: f}
	if !judge {
		return d
	}
	d.findings = rules.Judge(s.Rules, rules.Input{Facts: f, Offers: Offers(t.Kind)})
	s.Exceptions.Apply(d.findings, sc.Now)
	return d
}

// running adds to a product's facts what the host it was found on showed:
// the machine's memory (RT-003 compares the heap with it) and the JDK its
// process runs on (RT-002), unless the files already told.
func running(t target.Target, f *facts.Facts) {
	if t.Running == nil || f.Product == nil {
		return
	}
	if f.Product.MachineMemoryMB == 0 {
		f.Product.MachineMemoryMB = t.Running.MemoryMB
	}
	if f.Product.Java.Major == 0 && t.Running.Java.Major > 0 {
		f.Product.Java = t.Running.Java
	}
}

// Offers says which kinds of rule check a target kind can decide.
func Offers(k target.Kind) map[string]bool {
	switch k {
	case target.Directory:
		return map[string]bool{rules.KindFile: true}
	case target.Host:
		return map[string]bool{rules.KindHost: true}
	case target.Endpoint, target.Node:
		return map[string]bool{rules.KindProbe: true}
	}
	return map[string]bool{}
}

// profiles decides the profiles a target is judged under: the forced one,
// else what was detected (the product of a directory; linux-host and the
// products running on a host); endpoints without a declared profile get
// none, so every rule is eligible.
func profiles(t target.Target, f *facts.Facts) []string {
	if t.Profile != "" {
		return []string{t.Profile}
	}
	set := map[string]bool{}
	switch t.Kind {
	case target.Directory:
		if f.Product != nil && f.Product.Profile != "" {
			set[f.Product.Profile] = true
		}
	case target.Host:
		set["linux-host"] = true
		if f.Host != nil {
			for _, p := range f.Host.Processes {
				if p.Profile != "" {
					set[p.Profile] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func targetInfo(t target.Target, parent string, f *facts.Facts) finding.TargetInfo {
	ti := finding.TargetInfo{
		Name:     t.Name,
		ID:       t.Identity(),
		Kind:     string(t.Kind),
		Profiles: f.Target.Profiles,
		Role:     t.Decl.Role,
		Parent:   parent,
	}
	if t.Kind == target.Directory {
		if dir, err := target.DirID(t.Dir); err == nil {
			ti.Dir = dir
		}
	}
	if f.Product != nil {
		ti.Product, ti.Version = f.Product.Name, f.Product.Version
	}
	if f.Ports != nil {
		for _, p := range f.Ports.Open {
			ti.OpenPorts = append(ti.OpenPorts, fmt.Sprintf("%d/%s", p.Port, p.Service))
		}
	}
	keys := make([]string, 0, len(f.Status))
	for k := range f.Status {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if st := f.Status[k]; st.State == facts.Failed {
			ti.Errors = append(ti.Errors, fmt.Sprintf("%s: %s", k, st.Reason))
		}
	}
	return ti
}
