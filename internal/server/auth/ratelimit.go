package auth

import (
	"sync"
	"time"
)

// Limiter locks out a key (a client address, an account from an
// address) after too many failed sign-ins within a window. Each further
// lock-out of the same key lasts twice as long as the one before (up to
// MaxLock), until the key succeeds or stays quiet for MaxLock.
type Limiter struct {
	Max    int           // failures allowed per window
	Window time.Duration // the window, and the first lock-out unless Lock is set
	// Lock is how long the first lock-out lasts (default Window); MaxLock
	// caps the doubling (default Lock: no backoff).
	Lock, MaxLock time.Duration
	Now           func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	fails   int
	first   time.Time
	until   time.Time
	strikes int // lock-outs so far
}

func (l *Limiter) lock() time.Duration {
	if l.Lock > 0 {
		return l.Lock
	}
	return l.Window
}

func (l *Limiter) maxLock() time.Duration {
	return max(l.MaxLock, l.lock())
}

// maxEntries bounds the limiter's memory under a flood of addresses.
const maxEntries = 10000

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allowed reports whether key may try now, and if not, when it may.
func (l *Limiter) Allowed(key string) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return true, time.Time{}
	}
	now := l.now()
	if now.Before(e.until) {
		return false, e.until
	}
	return true, time.Time{}
}

// Attempt counts an attempt for every key before it is evaluated, as
// one step: when any key is locked out nothing is counted and it returns
// false with the time it may try again. Counting before the (slow)
// password check means parallel attempts cannot all slip past the limit;
// a successful attempt is forgiven with Succeed.
func (l *Limiter) Attempt(keys ...string) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if e := l.entries[k]; e != nil && now.Before(e.until) {
			return false, e.until
		}
	}
	for _, k := range keys {
		l.fail(k, now)
	}
	return true, time.Time{}
}

// Fail records a failed attempt.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail(key, l.now())
}

func (l *Limiter) fail(key string, now time.Time) {
	if l.entries == nil {
		l.entries = map[string]*entry{}
	}
	e := l.entries[key]
	if e == nil {
		if len(l.entries) >= maxEntries {
			l.sweep(now)
		}
		e = &entry{first: now}
		l.entries[key] = e
	} else if now.Sub(e.first) > l.Window && !now.Before(e.until) {
		// A new window; earlier lock-outs still count for the backoff.
		e.fails, e.first = 0, now
	}
	e.fails++
	if e.fails >= l.Max {
		d := l.lock()
		for i := 0; i < e.strikes && d < l.maxLock(); i++ {
			d *= 2
		}
		e.until = now.Add(min(d, l.maxLock()))
		e.strikes++
		e.fails, e.first = 0, now
	}
}

// Succeed forgets key's failures.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.first) > l.Window && now.Sub(e.until) > l.maxLock() {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxEntries {
		// Still full: forget the oldest half rather than grow.
		n := 0
		for k := range l.entries {
			delete(l.entries, k)
			if n++; n > maxEntries/2 {
				break
			}
		}
	}
}
