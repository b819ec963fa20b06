package collect

import (
	"context"
	"sync"
)

// HostLimiter caps the connections open to one host at once, across every
// collector and every target of a scan: an inventory that lists many
// endpoints of one machine shares that machine's budget. The zero value and
// a nil *HostLimiter impose no limit.
type HostLimiter struct {
	n     int
	mu    sync.Mutex
	slots map[string]chan struct{}
}

// NewHostLimiter returns a limiter allowing n connections per host (no
// limit when n < 1).
func NewHostLimiter(n int) *HostLimiter {
	return &HostLimiter{n: n, slots: map[string]chan struct{}{}}
}

// Limiter returns the scan's shared per-host limiter, or, for a collector
// used on its own (a test, a one-off probe), a fresh one allowing perHost
// connections.
func (e *Env) Limiter(perHost int) *HostLimiter {
	if e != nil && e.Hosts != nil {
		return e.Hosts
	}
	return NewHostLimiter(perHost)
}

// Limit is the number of connections allowed per host (0: no limit).
func (l *HostLimiter) Limit() int {
	if l == nil || l.n < 1 {
		return 0
	}
	return l.n
}

// Acquire waits for a connection slot to host (an IP address or a name, as
// the caller dials it) and returns the function that gives it back. It
// fails only when ctx ends first.
func (l *HostLimiter) Acquire(ctx context.Context, host string) (release func(), err error) {
	if l.Limit() == 0 {
		return func() {}, ctx.Err()
	}
	l.mu.Lock()
	if l.slots == nil {
		l.slots = map[string]chan struct{}{}
	}
	c, ok := l.slots[host]
	if !ok {
		c = make(chan struct{}, l.n)
		l.slots[host] = c
	}
	l.mu.Unlock()
	select {
	case c <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-c }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
