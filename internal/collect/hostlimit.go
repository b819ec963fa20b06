package collect

import (
	"context"
	"sync"
)

// HostLimiter caps the connections open to one host at once, across every
// collector and every target of a scan: an inventory that lists many
// endpoints of one machine shares that machine's budget. A host's entry
// lives only while some connection to it holds or waits for a slot, so a
// scan of a large range keeps no state for the hosts it is done with. The
// zero value and a nil *HostLimiter impose no limit.
type HostLimiter struct {
	n     int
	mu    sync.Mutex
	hosts map[string]*hostSlots
}

// hostSlots are one host's slots and how many callers hold or wait for
// one (the entry is dropped when that falls to zero).
type hostSlots struct {
	slots chan struct{}
	users int
}

// NewHostLimiter returns a limiter allowing n connections per host (no
// limit when n < 1).
func NewHostLimiter(n int) *HostLimiter {
	return &HostLimiter{n: n, hosts: map[string]*hostSlots{}}
}

// Limit is the number of connections allowed per host (0: no limit).
func (l *HostLimiter) Limit() int {
	if l == nil || l.n < 1 {
		return 0
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
	l.mu.Lock()
	if l.hosts == nil {
		l.hosts = map[string]*hostSlots{}
	}
	h, ok := l.hosts[host]
	if !ok {
		h = &hostSlots{slots: make(chan struct{}, l.n)}
		l.hosts[host] = h
	}
	h.users++
	l.mu.Unlock()
	select {
	case h.slots <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-h.slots
				l.leave(host, h)
			})
		}, nil
	case <-ctx.Done():
		l.leave(host, h)
		return nil, ctx.Err()
	}
}

// leave drops one user of host's entry, and the entry with its last.
func (l *HostLimiter) leave(host string, h *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h.users--
	if h.users == 0 && l.hosts[host] == h {
		delete(l.hosts, host)
	}
}
