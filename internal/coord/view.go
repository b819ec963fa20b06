package coord

import (
	"context"
	"time"

	"github.com/rampart-sec/rampart/internal/bus"
)

// ZoneQueue is a zone's job queue and agents as the dashboard shows them.
type ZoneQueue struct {
	Zone string `json:"zone"`
	Role string `json:"role"`
	// Pending jobs wait for an agent; Running were taken and not yet
	// acknowledged; Redelivered of those went to an agent more than once.
	Pending     uint64 `json:"pending"`
	Running     int    `json:"running"`
	Redelivered int    `json:"redelivered"`
	// Waiting counts agents' pulls waiting for a job.
	Waiting int `json:"waiting"`
	Agents  int `json:"agents"`
	Live    int `json:"live"`
	// LastSeen is the latest heartbeat of the zone's agents.
	LastSeen time.Time `json:"last_seen,omitzero"`
	Error    string    `json:"error,omitempty"`
}

// Queues returns every zone's queue from JetStream and its agents.
func (c *Coordinator) Queues(ctx context.Context) []ZoneQueue {
	agents := c.Agents()
	var out []ZoneQueue
	for _, z := range c.cfg.Zones {
		q := ZoneQueue{Zone: z.Name, Role: z.Role}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := c.js.Consumer(cctx, bus.JobsStream, bus.ZoneConsumer(z.Name))
		if err == nil {
			info := cons.CachedInfo()
			q.Pending, q.Running, q.Redelivered, q.Waiting = info.NumPending, info.NumAckPending, info.NumRedelivered, info.NumWaiting
		} else {
			q.Error = err.Error()
		}
		cancel()
		for _, a := range agents {
			if a.Zone != z.Name || a.RevokedAt != nil {
				continue
			}
			q.Agents++
			if a.Live {
				q.Live++
			}
			if a.LastSeen.After(q.LastSeen) {
				q.LastSeen = a.LastSeen
			}
		}
		out = append(out, q)
	}
	return out
}
