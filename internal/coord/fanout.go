package coord

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/collect/portscan"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// roundPlan is a round with its targets (by index, as its jobs name
// them) and how many jobs each zone has.
type roundPlan struct {
	round    store.ZoneRound
	targets  []*target.Target // nil where the inventory no longer has it
	expected map[string]int
	// parts follow the round's parts of Config.JudgePart targets (under
	// the coordinator's mu).
	parts []partState
}

// partState is what this server knows of one part of a round: the
// results its targets expect (one per target and zone), how many of
// them this server stored, and whether the part was judged (its run of
// verdicts, its targets and failures) before the round settled.
type partState struct {
	want, stored int
	judged       bool
	// atEnd: a result the part counted was not there when it was to be
	// judged early; it waits for the round's end.
	atEnd            bool
	run              int64
	targets, failing int
}

// plan resolves a round against the inventory.
func (c *Coordinator) plan(r store.ZoneRound) *roundPlan {
	byName := map[string]target.Target{}
	for _, t := range c.cfg.Targets() {
		byName[t.Name] = t
	}
	p := &roundPlan{round: r, targets: make([]*target.Target, len(r.Plan)), expected: map[string]int{},
		parts: make([]partState, (len(r.Plan)+c.cfg.JudgePart-1)/c.cfg.JudgePart)}
	for i, name := range r.Plan {
		t, ok := byName[name]
		if !ok || !zone.Judged(t, c.cfg.Zones) {
			continue
		}
		p.targets[i] = &t
		for _, z := range c.cfg.Zones.For(t) {
			p.expected[z.Name]++
			p.parts[i/c.cfg.JudgePart].want++
		}
	}
	return p
}

// roundPlan returns a round's plan, loading it when needed.
func (c *Coordinator) roundPlan(ctx context.Context, id int64) (*roundPlan, error) {
	c.mu.Lock()
	p, ok := c.rounds[id]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	r, err := c.cfg.Store.Round(ctx, id)
	if err != nil {
		return nil, err
	}
	p = c.plan(r)
	c.mu.Lock()
	c.rounds[id] = p
	c.mu.Unlock()
	return p, nil
}

// FanOut sends a schedule's targets that zones judge to the zones' agents
// as one round of jobs (one per target and zone) and returns the targets
// the server scans itself (directories, hosts, and everything when the
// inventory has no zones), and the round's ID (0 when there is none).
func (c *Coordinator) FanOut(ctx context.Context, schedule string, targets []target.Target) ([]target.Target, int64, error) {
	var zoned, local []target.Target
	for _, t := range targets {
		if zone.Judged(t, c.cfg.Zones) {
			zoned = append(zoned, t)
		} else {
			local = append(local, t)
		}
	}
	if len(zoned) == 0 {
		return local, 0, nil
	}
	now := c.cfg.Now().UTC()
	r := store.ZoneRound{Schedule: schedule, StartedAt: now, Deadline: now.Add(c.cfg.RoundTimeout)}
	for _, t := range zoned {
		r.Plan = append(r.Plan, t.Name)
	}
	// The jobs are built (and checked) before the round is recorded, so
	// the round is recorded with its size in one write: a server that
	// stops while its jobs go out (the agents may already hold them)
	// comes back to a round that knows how many jobs it has. They are
	// checked as round 1's and get the round's own ID once it has one.
	r.ID = 1
	var jobs []*bus.Job
	for i, t := range zoned {
		for _, z := range c.cfg.Zones.For(t) {
			j, err := c.job(r, z, i, t, schedule)
			if err != nil {
				c.log.Error("job not sent", "target", t.Name, "zone", z.Name, "err", err)
				continue
			}
			jobs = append(jobs, j)
		}
	}
	r.TotalJobs = len(jobs)
	id, err := c.cfg.Store.CreateRound(ctx, r)
	if err != nil {
		return local, 0, err
	}
	r.ID = id
	for _, j := range jobs {
		j.Round, j.ID = id, bus.JobID(id, j.Zone, j.Index)
	}
	p := c.plan(r)
	sent := c.publishJobs(ctx, jobs)
	if sent < len(jobs) && ctx.Err() == nil {
		// NATS refused some for good (publishChunk retried a minute):
		// the round has only the jobs it took. (When ctx ended, the
		// acknowledgements were not all read: the jobs may be out.)
		if err := c.cfg.Store.SetRoundJobs(ctx, id, sent); err != nil {
			return local, id, err
		}
		p.round.TotalJobs = sent
	}
	c.mu.Lock()
	c.rounds[id] = p
	c.mu.Unlock()
	c.log.Info("round fanned out", "round", id, "schedule", schedule, "targets", len(zoned), "jobs", sent, "of", len(jobs))
	c.Kick()
	return local, id, nil
}

// job builds the job of one target for one zone: the zone's role set and,
// for a node, the port list widened by what its expectations name, made
// explicit so that the agent reports exactly what it tried.
func (c *Coordinator) job(r store.ZoneRound, z target.Zone, i int, t target.Target, schedule string) (*bus.Job, error) {
	t.Decl.Role = z.Role
	t.Running = nil
	if t.Kind == target.Node {
		spec, err := zone.PortSpec(t.Decl.Ports, portscan.TopPorts(), zone.ProbePorts(t))
		if err != nil {
			return nil, err
		}
		t.Decl.Ports = spec
	}
	j := &bus.Job{V: bus.MessageVersion, ID: bus.JobID(r.ID, z.Name, i), Round: r.ID, Zone: z.Name, Index: i, Schedule: schedule,
		Target: t, Scan: c.cfg.Scan, MaxAttempts: c.cfg.MaxAttempts, IssuedAt: r.StartedAt, ExpiresAt: r.Deadline}
	return j, j.Validate()
}

// publishJobs publishes jobs asynchronously and waits for JetStream to
// take each; jobs refused (NATS away) are retried for a minute. The
// message ID is the job ID, so a repeat within the stream's duplicate
// window is one job. It returns how many were taken.
func (c *Coordinator) publishJobs(ctx context.Context, jobs []*bus.Job) int {
	sent := 0
	for len(jobs) > 0 {
		n := min(len(jobs), 1000) // within JetStream's async window
		sent += c.publishChunk(ctx, jobs[:n])
		jobs = jobs[n:]
	}
	return sent
}

func (c *Coordinator) publishChunk(ctx context.Context, pending []*bus.Job) int {
	sent := 0
	deadline := time.Now().Add(time.Minute)
	wait := 250 * time.Millisecond
	for len(pending) > 0 {
		var failed []*bus.Job
		type ack struct {
			j *bus.Job
			f jetstream.PubAckFuture
		}
		var acks []ack
		for _, j := range pending {
			data, err := bus.Encode(j)
			if err != nil {
				c.log.Error("encode job", "job", j.ID, "err", err)
				continue
			}
			f, err := c.js.PublishAsync(bus.JobSubject(j.Zone), data, jetstream.WithMsgID(j.ID))
			if err != nil {
				failed = append(failed, j)
				continue
			}
			acks = append(acks, ack{j, f})
		}
		for _, a := range acks {
			select {
			case <-a.f.Ok():
				sent++
			case <-a.f.Err():
				failed = append(failed, a.j)
			case <-ctx.Done():
				return sent
			}
		}
		if len(failed) == 0 || time.Now().After(deadline) {
			if len(failed) > 0 {
				c.log.Error("jobs not taken by NATS", "jobs", len(failed))
			}
			return sent
		}
		c.log.Warn("retrying jobs NATS did not take", "jobs", len(failed))
		if !sleep(ctx, wait) {
			return sent
		}
		wait = min(2*wait, 5*time.Second)
		pending = failed
	}
	return sent
}
