package alert

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
)

// Deliverer sends one outbox item to its destination.
type Deliverer interface {
	Deliver(ctx context.Context, kind, key string, body []byte) error
}

// Outbox is what the dispatcher needs of the store: the alerts due now,
// and recording what became of each attempt.
type Outbox interface {
	// DueOutbox returns pending items due at now, oldest first, leaving
	// out the destinations in skip.
	DueOutbox(ctx context.Context, now time.Time, limit int, skip ...string) ([]store.OutboxItem, error)
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkFailed keeps a pending item for another attempt at next.
	MarkFailed(ctx context.Context, id int64, next time.Time, reason string) error
	// MarkDead moves a pending item to the dead letters.
	MarkDead(ctx context.Context, id int64, at time.Time, reason string) error
}

// Dispatcher works through the outbox: each due item is sent to its
// destination; on failure it stays in the outbox with its next attempt
// pushed back (exponential backoff with jitter, capped), so nothing is
// dropped while a destination is down for a while. An alert that cannot
// ever be delivered goes to the dead letters instead of being retried
// forever: at once on a permanent error (a 4xx other than 408/429, a
// destination no longer configured), or when it has failed for RetryFor
// since it was queued (the last attempt is made at that moment).
type Dispatcher struct {
	Store        Outbox
	Destinations map[string]Deliverer
	Now          func() time.Time
	Logger       *slog.Logger
	// Poll is how often the outbox is checked (default 2s); Wake makes
	// it look at once.
	Poll time.Duration
	Wake chan struct{}
	// BaseBackoff and MaxBackoff bound the retry delay (defaults 2s, 10m).
	BaseBackoff, MaxBackoff time.Duration
	// RetryFor is how long an alert is retried before it becomes a dead
	// letter (default 72h).
	RetryFor time.Duration
	// Observe, when set, is told of every attempt's result (for metrics):
	// ResultDelivered, ResultFailed or ResultDead.
	Observe func(dest, kind, result string)
}

// Results of a delivery attempt.
const (
	ResultDelivered = "delivered"
	ResultFailed    = "failed"
	ResultDead      = "dead"
)

// DefaultRetryFor is how long an undeliverable alert is retried.
const DefaultRetryFor = 72 * time.Hour

func (d *Dispatcher) retryFor() time.Duration {
	if d.RetryFor > 0 {
		return d.RetryFor
	}
	return DefaultRetryFor
}

func (d *Dispatcher) observe(it store.OutboxItem, result string) {
	if d.Observe != nil {
		d.Observe(it.Destination, it.Kind, result)
	}
}

// dead moves an item to the dead letters.
func (d *Dispatcher) dead(ctx context.Context, log *slog.Logger, it store.OutboxItem, reason string) {
	d.observe(it, ResultDead)
	log.Error("alert moved to the dead letters", "destination", it.Destination, "key", it.Key, "kind", it.Kind, "attempts", it.Attempts+1, "reason", reason)
	if err := d.Store.MarkDead(ctx, it.ID, d.now(), reason); err != nil {
		log.Error("alert outbox", "err", err)
	}
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Backoff returns the delay before retry number attempt (1-based).
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	base, max := d.BaseBackoff, d.MaxBackoff
	if base <= 0 {
		base = 2 * time.Second
	}
	if max <= 0 {
		max = 10 * time.Minute
	}
	delay := base
	for i := 1; i < attempt && delay < max; i++ {
		delay *= 2
	}
	if delay > max {
		delay = max
	}
	// Up to 20% jitter so retries to one receiver spread out.
	return delay + time.Duration(rand.Int64N(int64(delay)/5+1))
}

// Run delivers until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) {
	poll := d.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		d.Flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.Wake:
		}
	}
}

// Flush makes one pass over the due items and returns how many were
// delivered.
func (d *Dispatcher) Flush(ctx context.Context) int {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delivered := 0
	// Destinations that fail in this pass are not tried again in it, and
	// their items are left out of the next batches so they cannot crowd
	// out the items of destinations that are up. Every item of a batch
	// is delivered, dead, pushed into the future or left out after it,
	// so the pass ends.
	down := map[string]bool{}
	var skip []string
	// An item the store failed to update comes back; it is not tried
	// twice in a pass, and a batch of nothing new ends the pass.
	seen := map[int64]bool{}
	for ctx.Err() == nil {
		items, err := d.Store.DueOutbox(ctx, d.now(), 50, skip...)
		if err != nil {
			log.Error("alert outbox", "err", err)
			return delivered
		}
		fresh := 0
		for _, it := range items {
			if !seen[it.ID] {
				fresh++
			}
		}
		if fresh == 0 {
			return delivered
		}
		for _, it := range items {
			if ctx.Err() != nil {
				return delivered
			}
			if seen[it.ID] {
				continue
			}
			seen[it.ID] = true
			if down[it.Destination] {
				// Not attempted: looked at again on the next pass, no
				// attempt counted.
				continue
			}
			dest, ok := d.Destinations[it.Destination]
			if !ok {
				d.dead(ctx, log, it, "destination "+it.Destination+" is no longer in the configuration")
				continue
			}
			err := dest.Deliver(ctx, it.Kind, it.Key, it.Body)
			if err == nil {
				d.observe(it, ResultDelivered)
				if err := d.Store.MarkDelivered(ctx, it.ID, d.now()); err != nil {
					log.Error("alert outbox", "err", err)
					continue
				}
				delivered++
				continue
			}
			if ctx.Err() != nil {
				// Shutting down mid-request: not the destination's fault.
				return delivered
			}
			now := d.now()
			deadline := it.EnqueuedAt.Add(d.retryFor())
			switch {
			case IsPermanent(err):
				d.dead(ctx, log, it, err.Error())
			case !now.Before(deadline):
				d.dead(ctx, log, it, fmt.Sprintf("gave up after %s: %v", d.retryFor(), err))
			default:
				down[it.Destination] = true
				skip = append(skip, it.Destination)
				next := now.Add(d.Backoff(it.Attempts + 1))
				if next.After(deadline) {
					// The last attempt is made when the window closes.
					next = deadline
				}
				d.observe(it, ResultFailed)
				log.Warn("alert delivery failed; will retry", "destination", it.Destination, "key", it.Key, "attempt", it.Attempts+1, "next", next, "err", err)
				if err := d.Store.MarkFailed(ctx, it.ID, next, err.Error()); err != nil {
					log.Error("alert outbox", "err", err)
				}
			}
		}
	}
	return delivered
}
