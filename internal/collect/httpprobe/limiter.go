package httpprobe

import (
	"context"
	"sync"
)

// hostLimiter caps concurrent requests per host across every scan the
// collector runs, so probing many ports of one host shares its budget.
type hostLimiter struct {
	mu    sync.Mutex
	slots map[string]chan struct{}
}

func (l *hostLimiter) get(host string, n int) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.slots == nil {
		l.slots = map[string]chan struct{}{}
	}
	c, ok := l.slots[host]
	if !ok || (cap(c) != n && len(c) == 0) {
		c = make(chan struct{}, n)
		l.slots[host] = c
	}
	return c
}

// acquire waits for a slot for host; the returned func releases it.
func (l *hostLimiter) acquire(ctx context.Context, host string, n int) (func(), error) {
	c := l.get(host, n)
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
