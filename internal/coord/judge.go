package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// judgeLoop judges rounds as they settle: when kicked (a result, a dead
// letter, an agent coming or going) and every few seconds.
func (c *Coordinator) judgeLoop(ctx context.Context) {
	every := min(c.cfg.AgentTimeout/3, 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := c.checkRounds(context.WithoutCancel(ctx)); err != nil {
			c.log.Error("judge rounds", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-t.C:
		}
	}
}

// checkRounds judges every open round that has settled: each zone has
// answered all its jobs (stored or dead), or has no live agent, or the
// round's deadline has passed.
func (c *Coordinator) checkRounds(ctx context.Context) error {
	open, err := c.cfg.Store.OpenRounds(ctx)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	backlog := -1 // results and dead letters in JetStream not yet stored; -1: not asked yet
	for _, r := range open {
		p, err := c.roundPlan(ctx, r.ID)
		if err != nil {
			return err
		}
		counts, err := c.cfg.Store.RoundCounts(ctx, r.ID)
		if err != nil {
			return err
		}
		settled := !now.Before(r.Deadline)
		if !settled {
			settled = true
			for z, n := range p.expected {
				if counts[z] >= n {
					continue
				}
				if live, _ := c.zoneLive(z); live {
					settled = false
					break
				}
				// No live agent: the zone has answered all it will,
				// unless answers wait in JetStream (an agent that
				// published its last result and stopped).
				if backlog < 0 {
					backlog = c.backlog(ctx)
				}
				if backlog > 0 {
					settled = false
					break
				}
			}
		}
		if settled {
			if err := c.judge(ctx, p); err != nil {
				return fmt.Errorf("round %d: %w", r.ID, err)
			}
		} else if err := c.judgeReady(ctx, p); err != nil {
			return fmt.Errorf("round %d: %w", r.ID, err)
		}
	}
	return nil
}

// backlog counts the results and dead letters JetStream holds that the
// coordinator has not stored yet (taken or not); when it cannot tell, it
// says 1, so a round waits for its deadline rather than be judged
// without answers that may be on their way.
func (c *Coordinator) backlog(ctx context.Context) int {
	n := 0
	for _, sc := range [][2]string{{bus.ResultsStream, bus.ResultsConsumer}, {bus.DeadStream, bus.DeadConsumer}} {
		ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := c.js.Consumer(ictx, sc[0], sc[1])
		var info *jetstream.ConsumerInfo
		if err == nil {
			info, err = cons.Info(ictx)
		}
		cancel()
		if err != nil {
			c.log.Warn("results waiting in NATS: unknown", "stream", sc[0], "err", err)
			return 1
		}
		n += int(info.NumPending) + info.NumAckPending
	}
	return n
}

// judge judges a settled round: each target's matrix and the exposure
// rules across its zones, stored under the targets' bare names as runs
// of at most Config.JudgePart targets (each part claimed once, so a
// server that dies half way stores the rest, not the same part twice),
// with the matrices. Parts judged before the round settled (judgeReady)
// are not judged again.
func (c *Coordinator) judge(ctx context.Context, p *roundPlan) error {
	r := p.round
	jobs, err := c.cfg.Store.RoundJobs(ctx, r.ID)
	if err != nil {
		return err
	}
	state := map[string]string{}
	for _, j := range jobs {
		state[j.ID] = j.State
	}
	now := c.cfg.Now().UTC()
	var firstRun int64
	targets, failing := 0, 0
	for k := range p.parts {
		c.mu.Lock()
		ps := p.parts[k]
		c.mu.Unlock()
		if !ps.judged {
			if ps, _, err = c.judgeOne(ctx, p, k, state, now, false); err != nil {
				return err
			}
		}
		if k == 0 {
			firstRun = ps.run
		}
		targets += ps.targets
		failing += ps.failing
	}
	if err := c.cfg.Store.FinishRound(ctx, r.ID, now, firstRun); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.rounds, r.ID)
	c.mu.Unlock()
	if c.cfg.Retention > 0 {
		if err := c.cfg.Store.PruneZones(ctx, now.Add(-c.cfg.Retention)); err != nil {
			c.log.Error("prune zone records", "err", err)
		}
	}
	if c.cfg.Judged != nil {
		c.cfg.Judged(r.ID, firstRun)
	}
	c.log.Info("round judged across zones", "round", r.ID, "schedule", r.Schedule, "targets", targets, "failing", failing, "run", firstRun, "runs", len(p.parts))
	return nil
}

// judgeReady judges, before its round settles, each part of it whose
// every result (each target from each of its zones) this server stored:
// those verdicts are final, and judging them as they come leaves the
// round's end only the parts still waiting. A first round's verdicts are
// all new findings (eight exposure rules a target): judged at the end,
// they were several seconds of the store's work after the last result.
func (c *Coordinator) judgeReady(ctx context.Context, p *roundPlan) error {
	now := c.cfg.Now().UTC()
	for k := range p.parts {
		c.mu.Lock()
		ps := p.parts[k]
		c.mu.Unlock()
		if ps.judged || ps.atEnd || ps.want == 0 || ps.stored < ps.want {
			continue
		}
		ps, ok, err := c.judgeOne(ctx, p, k, nil, now, true)
		if err != nil {
			return err
		}
		if !ok {
			// A result it counted is not there (a later round's took
			// its place): the part waits for the round's end.
			c.mu.Lock()
			p.parts[k].atEnd = true
			c.mu.Unlock()
			continue
		}
		c.log.Debug("round part judged", "round", p.round.ID, "part", k+1, "parts", len(p.parts), "targets", ps.targets, "run", ps.run)
	}
	return nil
}

// judgeOne judges part k of a round and stores its verdicts and
// matrices (once). With complete, a part missing any zone's result is
// left alone (ok false).
func (c *Coordinator) judgeOne(ctx context.Context, p *roundPlan, k int, state map[string]string, now time.Time, complete bool) (ps partState, ok bool, err error) {
	lo := k * c.cfg.JudgePart
	rep, exposures, missing, err := c.judgePart(ctx, p, lo, p.targets[lo:min(lo+c.cfg.JudgePart, len(p.targets))], state, now)
	if err != nil {
		return ps, false, err
	}
	if complete && missing {
		return ps, false, nil
	}
	runID, err := c.saveVerdicts(ctx, p.round, k, len(p.parts), rep, now)
	if err != nil {
		return ps, false, err
	}
	if err := c.cfg.Store.SaveExposure(ctx, exposures); err != nil {
		return ps, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := &p.parts[k]
	q.judged, q.run, q.targets, q.failing = true, runID, len(rep.Targets), 0
	for _, f := range rep.Findings {
		if f.Status == finding.Fail {
			q.failing++
		}
	}
	return *q, true, nil
}

// countStored counts stored results towards their rounds' parts.
func (c *Coordinator) countStored(g []*item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range g {
		it.round.parts[it.index/c.cfg.JudgePart].stored++
	}
}

// judgePart judges some of a round's targets (from index lo); missing
// says a zone's result for one of them is not there.
func (c *Coordinator) judgePart(ctx context.Context, p *roundPlan, lo int, part []*target.Target, state map[string]string, now time.Time) (*finding.Report, []store.ZoneExposure, bool, error) {
	r := p.round
	rep := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: c.cfg.Version},
		StartedAt: r.StartedAt, FinishedAt: now, Targets: []finding.TargetInfo{}, Findings: []finding.Finding{}}
	var names []string
	for _, t := range part {
		if t != nil {
			names = append(names, t.Name)
		}
	}
	rows, err := c.cfg.Store.ReachFor(ctx, r.ID, names)
	if err != nil {
		return nil, nil, false, err
	}
	reach := map[string]map[string]store.ZoneReach{}
	for _, row := range rows {
		if reach[row.Target] == nil {
			reach[row.Target] = map[string]store.ZoneReach{}
		}
		reach[row.Target][row.Zone] = row
	}
	var exposures []store.ZoneExposure
	missing := false
	for j, t := range part {
		if t == nil {
			continue
		}
		results := c.results(r, lo+j, *t, reach[t.Name], state)
		for _, res := range results {
			if res.Agent == "" { // no stored result (results names the agent of every one)
				missing = true
			}
		}
		m := zone.Build(*t, results, c.cfg.Catalog)
		fs := zone.Judge(*t, m, results, c.cfg.Catalog)
		profiles := []string{}
		if t.Profile != "" {
			profiles = append(profiles, t.Profile)
		}
		rep.Targets = append(rep.Targets, finding.TargetInfo{Name: t.Name, Kind: string(t.Kind), Profiles: profiles})
		rep.Findings = append(rep.Findings, fs...)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, nil, false, err
		}
		exposures = append(exposures, store.ZoneExposure{Target: t.Name, Round: r.ID, JudgedAt: now, Violations: m.Violations, Mismatches: m.Mismatches, Matrix: string(b)})
	}
	c.cfg.Exceptions.Apply(rep.Findings, now)
	rep.Finalize()
	return rep, exposures, missing, nil
}

// saveVerdicts stores part k of a round's verdicts once and returns its
// run (0 for an empty part).
func (c *Coordinator) saveVerdicts(ctx context.Context, r store.ZoneRound, k, parts int, rep *finding.Report, now time.Time) (int64, error) {
	claim := fmt.Sprintf("%d.@exposure", r.ID)
	source := fmt.Sprintf("zones:%s round:%d", r.Schedule, r.ID)
	if k > 0 {
		claim = fmt.Sprintf("%d.@exposure.%d", r.ID, k)
	}
	if parts > 1 {
		source += fmt.Sprintf(" part:%d/%d", k+1, parts)
	}
	runID, err := c.cfg.Store.JudgedRun(ctx, claim)
	if err != nil || runID != 0 || len(rep.Targets) == 0 {
		return runID, err
	}
	d, err := c.cfg.Store.SaveRun(ctx, store.RunInput{Report: rep, Source: source, CertWarnDays: c.cfg.CertWarnDays, Now: now,
		Jobs: []store.JobClaim{{ID: claim, Round: r.ID, Zone: "", Target: "", Agent: "rampart", State: store.JobJudged}}}, c.cfg.Alerts(c.cfg.FirstRun(r.Schedule)))
	switch {
	case errors.Is(err, store.ErrDuplicateJob):
		return c.cfg.Store.JudgedRun(ctx, claim)
	case err != nil:
		return 0, err
	}
	if c.cfg.Stored != nil {
		c.cfg.Stored(d)
	}
	return d.RunID, nil
}

// results gathers what each zone that judges a target contributed this
// round, or why it has nothing.
func (c *Coordinator) results(r store.ZoneRound, i int, t target.Target, rows map[string]store.ZoneReach, state map[string]string) []zone.Result {
	var out []zone.Result
	for _, z := range c.cfg.Zones.For(t) {
		res := zone.Result{Zone: z}
		row, ok := rows[z.Name]
		var data reachData
		if ok {
			if err := json.Unmarshal([]byte(row.Data), &data); err != nil {
				ok = false
			}
		}
		switch {
		case ok && data.Error == "" && data.Obs != nil:
			res.Agent, res.At, res.Obs, res.Findings = row.Agent, row.ScannedAt, data.Obs, data.findings()
		case ok && data.Error != "":
			res.Agent, res.At = row.Agent, row.ScannedAt
			res.Missing = fmt.Sprintf("zone %s could not scan it (agent %s): %s", z.Name, row.Agent, data.Error)
		default:
			res.Missing = c.missing(z, state[jobRef(r.ID, z.Name, i)])
		}
		out = append(out, res)
	}
	return out
}

// missing says why a zone has no result for a target.
func (c *Coordinator) missing(z target.Zone, jobState string) string {
	if jobState == store.JobDead {
		return fmt.Sprintf("zone %s gave up on it: the job was dead-lettered (see the zones page)", z.Name)
	}
	live, last := c.zoneLive(z.Name)
	switch {
	case !live && last.IsZero():
		return fmt.Sprintf("no agent in zone %s has ever reported", z.Name)
	case !live:
		return fmt.Sprintf("no agent in zone %s since %s", z.Name, last.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return fmt.Sprintf("zone %s did not report by the round's deadline (its job is still pending)", z.Name)
}

func jobRef(round int64, z string, i int) string { return fmt.Sprintf("%d.%s.%d", round, z, i) }
