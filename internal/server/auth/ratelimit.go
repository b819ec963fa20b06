package auth

import (
	"sync"
	"time"
)

// Limiter locks out a key (a client address, a user name) after too many
// failed sign-ins within a window.
type Limiter struct {
	Max    int           // failures allowed per window
	Window time.Duration // and how long a lock-out lasts
	Now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	fails int
	first time.Time
	until time.Time
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
	if e == nil || now.Sub(e.first) > l.Window {
		if len(l.entries) >= maxEntries {
			l.sweep(now)
		}
		e = &entry{first: now}
		l.entries[key] = e
	}
	e.fails++
	if e.fails >= l.Max {
		e.until = now.Add(l.Window)
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
		if now.Sub(e.first) > l.Window && now.After(e.until) {
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
