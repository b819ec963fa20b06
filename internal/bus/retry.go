package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AttemptTimeout bounds one JetStream API request made by Retry: a busy
// server (fsync on a loaded disk, a connection still authenticating) may
// take seconds; the caller's context bounds the whole.
const AttemptTimeout = 15 * time.Second

// Retry runs op until it succeeds, fails for good, or ctx ends. Each
// attempt gets its own AttemptTimeout (within ctx); transient failures
// (no answer in time, no responders yet, JetStream not yet enabled,
// the connection reconnecting) are retried with a growing backoff.
// JetStream's refusal of a request (a bad configuration, a name taken)
// is returned at once: retrying cannot change it.
func Retry(ctx context.Context, what string, op func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, AttemptTimeout)
		err := op(actx)
		cancel()
		if err == nil {
			return nil
		}
		if !Transient(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Transient reports whether a NATS or JetStream error may go away on its
// own: a timeout, nobody answering yet, JetStream starting or away (503).
func Transient(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrAuthorization),
		errors.Is(err, nats.ErrBadSubscription), errors.Is(err, context.Canceled):
		return false
	}
	var je jetstream.JetStreamError
	if errors.As(err, &je) {
		if api := je.APIError(); api != nil {
			return api.Code == 503 || api.Code == 408 || api.Code == 0
		}
	}
	return true
}
