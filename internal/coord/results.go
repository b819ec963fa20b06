package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/zone"
)

// reachData is what a zone_reach row keeps: what the zone reached of a
// target and the zone's own verdicts of the exposure rules.
type reachData struct {
	Obs      *zone.Observation `json:"obs,omitempty"`
	Error    string            `json:"error,omitempty"`
	Verdicts []verdict         `json:"verdicts"`
	// Started and Finished are the agent's scan times.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
}

// verdict is a zone's own verdict of an exposure rule on the target or a
// target it led to.
type verdict struct {
	Rule    string         `json:"rule"`
	Target  string         `json:"target"`
	Status  finding.Status `json:"status"`
	Message string         `json:"message,omitempty"`
}

func (d reachData) findings() []finding.Finding {
	out := make([]finding.Finding, len(d.Verdicts))
	for i, v := range d.Verdicts {
		out[i] = finding.Finding{RuleID: v.Rule, Target: v.Target, Status: v.Status, Message: v.Message}
	}
	return out
}

// item is one result message being stored.
type item struct {
	msg   jetstream.Msg
	res   *bus.Result
	round *roundPlan
	index int
}

// fetched is a batch of result messages waiting to be stored; stop ends
// their progress signals.
type fetched struct {
	msgs []jetstream.Msg
	stop func()
}

// consumeResults fetches results while those before them are stored, and
// stores together every batch that arrived meanwhile (up to BatchMax
// results): a backlog (the first round of a fleet, whose every finding is
// new) is stored in fewer, larger transactions. The next results are
// decoded and checked while a batch is stored (on the other core, where
// there is one: decoding was a tenth of the store's serial path), so at
// most two batches are decoded at once, one stored and one waiting (a
// decoded result is several times larger); messages further back wait
// compressed, as they came.
func (c *Coordinator) consumeResults(ctx context.Context, cons jetstream.Consumer) {
	ready := make(chan fetched, 1)
	c.wg.Go(func() {
		defer close(ready)
		c.consume(ctx, cons, func(_ context.Context, msgs []jetstream.Msg) {
			ready <- fetched{msgs: msgs, stop: inProgress(msgs, 30*time.Second)}
		})
	})
	checked := make(chan checkedBatch) // unbuffered: one checked batch waits
	sctx := context.WithoutCancel(ctx)
	c.wg.Go(func() {
		defer close(checked)
		for f := range ready {
			batch := []fetched{f}
			msgs := f.msgs
		more:
			for len(msgs) < c.cfg.BatchMax {
				select {
				case g, ok := <-ready:
					if !ok {
						break more
					}
					batch = append(batch, g)
					msgs = append(msgs[:len(msgs):len(msgs)], g.msgs...)
				default:
					break more
				}
			}
			checked <- checkedBatch{items: c.checkAll(sctx, msgs), fetched: batch}
		}
	})
	for cb := range checked {
		c.storeItems(sctx, cb.items)
		for _, b := range cb.fetched {
			b.stop()
		}
	}
}

// checkedBatch is a batch of results decoded and checked, waiting to be
// stored, with the fetches it came in.
type checkedBatch struct {
	items   []*item
	fetched []fetched
}

// checkAll decodes and checks results (check); one that is not genuine
// is refused.
func (c *Coordinator) checkAll(ctx context.Context, msgs []jetstream.Msg) []*item {
	var items []*item
	for _, m := range msgs {
		it, err := c.check(ctx, m)
		if err != nil {
			c.log.Warn("result refused", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		items = append(items, it)
	}
	return items
}

// storeItems stores checked results: each zone's results as one run
// (its source names the agents; each job records its own) whose jobs are
// claimed in the same transaction, then acknowledges them. A result
// already stored is acknowledged and dropped; one that is not genuine
// (its subject, zone, agent or job do not agree, or its agent was
// revoked before it was published) was refused by check. A store error
// leaves the messages to be delivered again.
func (c *Coordinator) storeItems(ctx context.Context, items []*item) {
	if len(items) == 0 {
		return
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.res.Job
	}
	stored, err := c.cfg.Store.StoredJobs(ctx, ids)
	if err != nil {
		c.log.Error("results not stored; they are delivered again", "err", err)
		nakAll(items)
		return
	}
	groups := map[string][]*item{}
	var keys []string
	seen := map[string]bool{}
	for _, it := range items {
		if stored[it.res.Job] || seen[it.res.Job] {
			_ = it.msg.Ack() // a redelivery, or two agents' results for one job
			continue
		}
		seen[it.res.Job] = true
		k := it.res.Zone
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], it)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		err := c.saveGroup(ctx, g)
		if errors.Is(err, store.ErrDuplicateJob) && len(g) > 1 {
			// Another server stored one of them meanwhile: one by one.
			for _, it := range g {
				c.finish(c.saveGroup(ctx, []*item{it}), []*item{it})
			}
			continue
		}
		c.finish(err, g)
		for _, it := range g {
			it.res = nil // stored or to be delivered again: its decoded report can go
		}
	}
	c.Kick()
}

func (c *Coordinator) finish(err error, g []*item) {
	if err == nil {
		c.countStored(g)
	}
	switch {
	case err == nil, errors.Is(err, store.ErrDuplicateJob):
		for _, it := range g {
			_ = it.msg.Ack()
		}
	default:
		c.log.Error("results not stored; they are delivered again", "results", len(g), "err", err)
		nakAll(g)
	}
}

func nakAll(items []*item) {
	for _, it := range items {
		_ = it.msg.NakWithDelay(5 * time.Second)
	}
}

// check decodes a result and makes sure it is what it claims: published
// under its agent's own subject (which NATS permissions guarantee), by an
// agent of the job's zone that was not revoked then, for a job of a known
// round.
func (c *Coordinator) check(ctx context.Context, m jetstream.Msg) (*item, error) {
	z, agent, ok := bus.SubjectIdentity(m.Subject())
	if !ok {
		return nil, fmt.Errorf("subject %q", m.Subject())
	}
	res, err := bus.DecodeResult(m.Data())
	if err != nil {
		return nil, err
	}
	if res.Zone != z || res.Agent != agent {
		return nil, fmt.Errorf("result claims zone %s agent %s but was published by %s of %s", res.Zone, res.Agent, agent, z)
	}
	at := c.cfg.Now()
	if meta, err := m.Metadata(); err == nil {
		at = meta.Timestamp
	}
	if !c.agentOK(agent, z, at) {
		return nil, fmt.Errorf("agent %s of zone %s is unknown or was revoked before %s", agent, z, at.Format(time.RFC3339))
	}
	round, jz, idx, err := bus.ParseJobID(res.Job)
	if err != nil || jz != z {
		return nil, fmt.Errorf("job %s is not of zone %s", res.Job, z)
	}
	p, err := c.roundPlan(ctx, round)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", res.Job, err)
	}
	if idx >= len(p.round.Plan) || p.round.Plan[idx] != res.Target {
		return nil, fmt.Errorf("job %s is not about %q", res.Job, res.Target)
	}
	return &item{msg: m, res: res, round: p, index: idx}, nil
}

// saveGroup stores one zone's results in one transaction: one run
// holding the zone's findings under zoned names ("gw@dmz") with the jobs
// claimed and the zone's observations of their targets.
func (c *Coordinator) saveGroup(ctx context.Context, g []*item) error {
	z := g[0].res.Zone
	agentSet := map[string]bool{}
	role := c.cfg.Zones.Role(z)
	now := c.cfg.Now().UTC()
	rep := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: g[0].res.Version},
		Targets: []finding.TargetInfo{}, Findings: []finding.Finding{}}
	obs := map[string]store.Observation{}
	var reach []store.ZoneReach
	var claims []store.JobClaim
	schedules := map[string]bool{}
	for _, it := range g {
		r := it.res
		agentSet[r.Agent] = true
		if rep.StartedAt.IsZero() || r.StartedAt.Before(rep.StartedAt) {
			rep.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(rep.FinishedAt) {
			rep.FinishedAt = r.FinishedAt
		}
		schedules[it.round.round.Schedule] = true
		data := reachData{Obs: r.Observation, Error: r.Error, Verdicts: []verdict{}, Started: r.StartedAt, Finished: r.FinishedAt}
		if r.Error != "" || r.Report == nil {
			rep.Targets = append(rep.Targets, finding.TargetInfo{Name: zone.ZonedName(r.Target, z), Kind: "endpoint", Profiles: []string{}, Role: role,
				Errors: []string{"zone " + z + " could not scan it: " + r.Error}})
		} else {
			for _, ti := range r.Report.Targets {
				ti.Name = zone.ZonedName(ti.Name, z)
				if ti.Parent != "" {
					ti.Parent = zone.ZonedName(ti.Parent, z)
				}
				ti.Role = role
				rep.Targets = append(rep.Targets, ti)
			}
			for _, f := range r.Report.Findings {
				if zone.IsExposureRule(f.RuleID) {
					st := f.Status
					if f.Exception != nil && f.Exception.Original != "" {
						st = f.Exception.Original
					}
					data.Verdicts = append(data.Verdicts, verdict{Rule: f.RuleID, Target: f.Target, Status: st, Message: f.Message})
				}
				f.Fingerprint = finding.Fingerprint(zone.ZonedName(f.Target, z), f.RuleID, f.Fingerprint)
				f.Target = zone.ZonedName(f.Target, z)
				f.Exception = nil // exceptions are the server's to apply
				rep.Findings = append(rep.Findings, f)
			}
			if r.Observation != nil && it.round.targets[it.index] != nil && it.round.targets[it.index].Kind == "node" {
				o := store.Observation{PortsScanned: true}
				for _, p := range r.Observation.Open {
					o.OpenPorts = append(o.OpenPorts, p.Port)
				}
				obs[zone.ZonedName(r.Target, z)] = o
			}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		reach = append(reach, store.ZoneReach{Target: r.Target, Zone: z, Round: it.round.round.ID, JobID: r.Job, Agent: r.Agent, ScannedAt: r.FinishedAt, Data: string(b)})
		claims = append(claims, store.JobClaim{ID: r.Job, Round: it.round.round.ID, Zone: z, Target: r.Target, Agent: r.Agent, State: store.JobDone})
	}
	if rep.FinishedAt.IsZero() {
		rep.FinishedAt = now
	}
	if rep.StartedAt.IsZero() {
		rep.StartedAt = rep.FinishedAt
	}
	c.cfg.Exceptions.Apply(rep.Findings, now)
	rep.Finalize()
	var sched []string
	for s := range schedules {
		sched = append(sched, s)
	}
	sort.Strings(sched)
	var agents []string
	for a := range agentSet {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	who := "agent:" + agents[0]
	if len(agents) > 1 {
		who = "agents:" + strings.Join(agents, ",")
	}
	source := fmt.Sprintf("zone:%s %s schedule:%s", z, who, strings.Join(sched, ","))
	saveStart := time.Now()
	d, err := c.cfg.Store.SaveRun(ctx, store.RunInput{Report: rep, Source: source, Observations: obs, CertWarnDays: c.cfg.CertWarnDays, Now: now, Jobs: claims, Reach: reach},
		c.cfg.Alerts(c.cfg.FirstRun(sched[0])))
	if err != nil {
		return err
	}
	if c.cfg.Stored != nil {
		c.cfg.Stored(d)
	}
	c.log.Debug("zone results stored", "zone", z, "agents", strings.Join(agents, ","), "results", len(g), "findings", len(rep.Findings), "run", d.RunID,
		"store_ms", time.Since(saveStart).Milliseconds())
	return nil
}
