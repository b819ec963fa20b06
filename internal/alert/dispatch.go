package alert

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
)

// Deliverer sends one outbox item to its destination.
type Deliverer interface {
	Deliver(ctx context.Context, kind, key string, body []byte) error
}

// Dispatcher works through the outbox: each due item is sent to its
// destination; on failure it stays in the outbox with its next attempt
// pushed back (exponential backoff with jitter, capped), so nothing is
// dropped while a destination is down.
type Dispatcher struct {
	Store        store.Store
	Destinations map[string]Deliverer
	Now          func() time.Time
	Logger       *slog.Logger
	// Poll is how often the outbox is checked (default 2s); Wake makes
	// it look at once.
	Poll time.Duration
	Wake chan struct{}
	// BaseBackoff and MaxBackoff bound the retry delay (defaults 2s, 10m).
	BaseBackoff, MaxBackoff time.Duration
	// Observe, when set, is told of every attempt (for metrics).
	Observe func(dest, kind string, ok bool)
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
	// Destinations that fail in this pass are not tried again in it.
	down := map[string]bool{}
	for ctx.Err() == nil {
		items, err := d.Store.DueOutbox(ctx, d.now(), 50)
		if err != nil {
			log.Error("alert outbox", "err", err)
			return delivered
		}
		if len(items) == 0 {
			return delivered
		}
		progress := false
		for _, it := range items {
			if ctx.Err() != nil {
				return delivered
			}
			dest, ok := d.Destinations[it.Destination]
			if !ok || down[it.Destination] {
				reason := "destination is down"
				if !ok {
					reason = "destination is no longer configured"
				}
				next := d.now().Add(d.Backoff(it.Attempts + 1))
				if down[it.Destination] {
					// Not attempted: look again soon, no attempt counted.
					continue
				}
				_ = d.Store.MarkFailed(ctx, it.ID, next, reason)
				continue
			}
			err := dest.Deliver(ctx, it.Kind, it.Key, it.Body)
			if d.Observe != nil {
				d.Observe(it.Destination, it.Kind, err == nil)
			}
			if err != nil {
				down[it.Destination] = true
				next := d.now().Add(d.Backoff(it.Attempts + 1))
				log.Warn("alert delivery failed; will retry", "destination", it.Destination, "key", it.Key, "attempt", it.Attempts+1, "next", next, "err", err)
				if err := d.Store.MarkFailed(ctx, it.ID, next, err.Error()); err != nil {
					log.Error("alert outbox", "err", err)
				}
				continue
			}
			if err := d.Store.MarkDelivered(ctx, it.ID, d.now()); err != nil {
				log.Error("alert outbox", "err", err)
				continue
			}
			delivered++
			progress = true
		}
		if !progress {
			return delivered
		}
	}
	return delivered
}
