package collect

import (
	"context"
	"sync"
	"time"
)

// DefaultAnswerCeiling is how fast a host must answer a probe connection
// (its first bytes after the connect) for an adaptive limiter to widen its
// window.
const DefaultAnswerCeiling = 50 * time.Millisecond

// HostLimiter caps the connections open to one host at once, across every
// collector and every target of a scan: an inventory that lists many
// endpoints of one machine shares that machine's budget. A host's entry
// lives only while some connection to it holds or waits for a slot, so a
// scan of a large range keeps no state for the hosts it is done with. The
// zero value and a nil *HostLimiter impose no limit.
//
// An adaptive limiter (NewAdaptiveHostLimiter) starts each host at its base
// window and widens it by one, up to its maximum, for every connection the
// host answers faster than the ceiling; an answer slower than that, or
// none (a timeout, a connection closed without a byte), halves the window,
// never below the base. Waiters are served in the order they came.
type HostLimiter struct {
	n, max  int
	ceiling time.Duration
	mu      sync.Mutex
	hosts   map[string]*hostSlots
}

// hostSlots are one host's window, the slots in use, the connections
// waiting, and how many callers hold or wait for a slot (the entry is
// dropped when that falls to zero).
type hostSlots struct {
	limit   int
	inUse   int
	users   int
	waiters []chan struct{}
}

// NewHostLimiter returns a limiter allowing n connections per host (no
// limit when n < 1).
func NewHostLimiter(n int) *HostLimiter {
	return &HostLimiter{n: n, max: n, hosts: map[string]*hostSlots{}}
}

// NewAdaptiveHostLimiter returns a limiter that allows n connections per
// host at first and up to max for hosts that answer within ceiling
// (DefaultAnswerCeiling when 0). With max <= n it is NewHostLimiter(n).
func NewAdaptiveHostLimiter(n, max int, ceiling time.Duration) *HostLimiter {
	l := NewHostLimiter(n)
	if n >= 1 && max > n {
		l.max = max
	}
	l.ceiling = ceiling
	if l.ceiling <= 0 {
		l.ceiling = DefaultAnswerCeiling
	}
	return l
}

// Limit is the number of connections allowed per host at first (0: no
// limit).
func (l *HostLimiter) Limit() int {
	if l == nil || l.n < 1 {
		return 0
	}
	return l.n
}

// MaxLimit is the most connections a host's window can grow to (Limit for
// a fixed limiter; 0: no limit).
func (l *HostLimiter) MaxLimit() int {
	if l.Limit() == 0 {
		return 0
	}
	return max(l.n, l.max)
}

// Window is host's current window: Limit when no connection to it holds or
// waits for a slot.
func (l *HostLimiter) Window(host string) int {
	if l.Limit() == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.hosts[host]; ok {
		return h.limit
	}
	return l.n
}

// Hosts is the number of hosts with a connection holding or waiting for a
// slot.
func (l *HostLimiter) Hosts() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hosts)
}

// Acquire waits for a connection slot to host (an IP address or a name, as
// the caller dials it) and returns the function that gives it back (safe
// to call more than once). It fails only when ctx ends first.
func (l *HostLimiter) Acquire(ctx context.Context, host string) (release func(), err error) {
	if l.Limit() == 0 {
		return func() {}, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.hosts == nil {
		l.hosts = map[string]*hostSlots{}
	}
	h, ok := l.hosts[host]
	if !ok {
		h = &hostSlots{limit: l.n}
		l.hosts[host] = h
	}
	h.users++
	if h.inUse < h.limit && len(h.waiters) == 0 {
		h.inUse++
		l.mu.Unlock()
		return l.releaser(host, h), nil
	}
	ready := make(chan struct{})
	h.waiters = append(h.waiters, ready)
	l.mu.Unlock()
	select {
	case <-ready:
		return l.releaser(host, h), nil
	case <-ctx.Done():
		l.mu.Lock()
		if i := indexOf(h.waiters, ready); i >= 0 {
			h.waiters = append(h.waiters[:i], h.waiters[i+1:]...)
		} else {
			// The slot was handed over as ctx ended: give it on.
			h.inUse--
			l.grant(h)
		}
		l.leave(host, h)
		l.mu.Unlock()
		return nil, ctx.Err()
	}
}

func indexOf(ws []chan struct{}, c chan struct{}) int {
	for i, w := range ws {
		if w == c {
			return i
		}
	}
	return -1
}

// releaser gives a held slot back, once.
func (l *HostLimiter) releaser(host string, h *hostSlots) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			h.inUse--
			l.grant(h)
			l.leave(host, h)
			l.mu.Unlock()
		})
	}
}

// grant hands free slots to the waiters, first come first served. l.mu is
// held.
func (l *HostLimiter) grant(h *hostSlots) {
	for h.inUse < h.limit && len(h.waiters) > 0 {
		w := h.waiters[0]
		h.waiters = h.waiters[1:]
		h.inUse++
		close(w)
	}
}

// leave drops one user of host's entry, and the entry with its last. l.mu
// is held.
func (l *HostLimiter) leave(host string, h *hostSlots) {
	h.users--
	if h.users == 0 && l.hosts[host] == h {
		delete(l.hosts, host)
	}
}

// Observe tells an adaptive limiter how a connection to host went: after
// how long the host's first bytes came (answered), or that none came.
func (l *HostLimiter) Observe(host string, after time.Duration, answered bool) {
	if l.MaxLimit() <= l.Limit() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.hosts[host]
	if !ok {
		return
	}
	if answered && after < l.ceiling {
		if h.limit < l.max {
			h.limit++
			l.grant(h)
		}
		return
	}
	h.limit = max(l.n, h.limit/2)
}

// Waiting is the number of connections waiting for a slot of host.
func (l *HostLimiter) Waiting(host string) int {
	if l.Limit() == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.hosts[host]; ok {
		return len(h.waiters)
	}
	return 0
}
