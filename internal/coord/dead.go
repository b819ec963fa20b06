package coord

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/store"
)

// storeDead records dead letters: jobs an agent gave up on after too many
// deliveries. The last error an agent reported for the job joins the
// reason.
func (c *Coordinator) storeDead(ctx context.Context, msgs []jetstream.Msg) {
	for _, m := range msgs {
		z, agent, ok := bus.SubjectIdentity(m.Subject())
		d, err := bus.DecodeDeadLetter(m.Data())
		if !ok || err != nil || d.Zone != z || d.Agent != agent {
			c.log.Warn("dead letter refused", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		at := c.cfg.Now()
		if meta, err := m.Metadata(); err == nil {
			at = meta.Timestamp
		}
		if !c.agentOK(agent, z, at) {
			c.log.Warn("dead letter from an unknown or revoked agent refused", "agent", agent)
			_ = m.Term()
			continue
		}
		reason := d.Reason
		c.mu.Lock()
		if last, ok := c.failures[d.Job.ID]; ok {
			reason += "; last error: " + last
		}
		c.mu.Unlock()
		job, _ := bus.Encode(d.Job)
		err = c.cfg.Store.SaveDeadJob(ctx, store.DeadJob{JobID: d.Job.ID, Round: d.Job.Round, Zone: z, Target: d.Job.Target.Name, Agent: agent,
			Deliveries: d.Deliveries, Reason: reason, At: d.At, Job: string(job)})
		if err != nil {
			c.log.Error("dead letter not stored; delivered again", "job", d.Job.ID, "err", err)
			_ = m.NakWithDelay(5 * time.Second)
			continue
		}
		c.log.Warn("job dead-lettered", "job", d.Job.ID, "target", d.Job.Target.Name, "zone", z, "deliveries", d.Deliveries, "reason", reason)
		_ = m.Ack()
	}
	c.Kick()
}
