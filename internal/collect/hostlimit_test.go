package collect_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// An adaptive window widens by one per fast answer up to its maximum,
// halves (never below the base) on a slow or missing answer, and hands
// the slots it frees or adds to the waiters in the order they came.
func TestAdaptiveHostLimiterWindow(t *testing.T) {
	l := collect.NewAdaptiveHostLimiter(2, 4, time.Second)
	ctx := context.Background()
	var held []func()
	for range 2 {
		r, err := l.Acquire(ctx, "h")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	order := make(chan int, 3)
	for i := range 3 {
		waiting := make(chan struct{})
		go func() {
			close(waiting)
			r, err := l.Acquire(ctx, "h")
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			_ = r // held until the test ends
		}()
		<-waiting
		// Each waiter is queued before the next one starts.
		waitQueued(t, l, i+1)
	}
	if w := l.Window("h"); w != 2 {
		t.Fatalf("window %d before any answer, want the base 2", w)
	}
	l.Observe("h", time.Millisecond, true) // fast: 3
	if got := <-order; got != 0 {
		t.Fatalf("waiter %d served first, want 0 (first come, first served)", got)
	}
	l.Observe("h", time.Millisecond, true) // fast: 4, the maximum
	if got := <-order; got != 1 {
		t.Fatalf("waiter %d served second, want 1", got)
	}
	l.Observe("h", time.Millisecond, true) // already at the maximum
	if w := l.Window("h"); w != 4 {
		t.Fatalf("window %d, want the maximum 4", w)
	}
	select {
	case got := <-order:
		t.Fatalf("waiter %d served past the maximum window", got)
	default:
	}
	l.Observe("h", 2*time.Second, true) // slow: halved to 2
	if w := l.Window("h"); w != 2 {
		t.Fatalf("window %d after a slow answer, want 2", w)
	}
	l.Observe("h", 0, false) // no answer: never below the base
	if w := l.Window("h"); w != 2 {
		t.Fatalf("window %d after no answer, want the base 2", w)
	}
	held[0]() // 4 held -> 3, still above the window: nobody is served
	select {
	case got := <-order:
		t.Fatalf("waiter %d served while the window is full", got)
	default:
	}
}

// waitQueued waits until n callers wait for a slot of "h" (Acquire has
// queued them): a full window of 2 and n waiters hold the entry.
func waitQueued(t *testing.T, l *collect.HostLimiter, n int) {
	t.Helper()
	testenv.Poll(t, 5*time.Second, "waiters queued", func() error {
		if l.Waiting("h") != n {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
}

// A fixed limiter never widens.
func TestFixedHostLimiterIgnoresAnswers(t *testing.T) {
	l := collect.NewHostLimiter(2)
	r, err := l.Acquire(context.Background(), "h")
	if err != nil {
		t.Fatal(err)
	}
	defer r()
	for range 5 {
		l.Observe("h", 0, true)
	}
	if w, m := l.Window("h"), l.MaxLimit(); w != 2 || m != 2 {
		t.Fatalf("window %d, max %d, want 2 and 2", w, m)
	}
}

// Through Net.Dial: a server that answers at once widens its host's
// window, with no probe code involved.
func TestDialWidensWindowOfFastHost(t *testing.T) {
	addr := testenv.Serve(t, 10*time.Second, func(c net.Conn) {
		_, _ = c.Write([]byte("hello\n"))
		_, _ = io.Copy(io.Discard, c)
	})
	hosts := collect.NewAdaptiveHostLimiter(2, 6, time.Minute)
	n := (&collect.Env{Hosts: hosts}).Net(2)
	if n.PerHost() != 6 {
		t.Fatalf("PerHost %d, want the largest window 6", n.PerHost())
	}
	keep := dial(t, n, context.Background(), addr, collect.DialSpec{})
	for range 3 {
		c := dial(t, n, context.Background(), addr, collect.DialSpec{})
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if w := hosts.Window("127.0.0.1"); w != 5 {
		t.Errorf("window %d after three fast answers, want 2+3", w)
	}
	keep.Close()
}
