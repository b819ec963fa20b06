package testenv

import (
	"testing"
	"time"
)

// Poll checks cond every few milliseconds until it returns nil, and fails
// the test with cond's last error when timeout passes first. It is for
// state that belongs to something the test does not control and that
// gives no notice when it changes (another process starting, a row a
// server's background loop writes): wait for the condition itself, never
// for a fixed time. In-process code is synchronised with a channel or an
// injected clock instead (internal/archtest forbids time.Sleep in tests).
func Poll(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		case <-tick.C:
		}
	}
}
