package collect_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// A panic in a goroutine a collector starts through a Group (a worker of
// a probe, say) does not end the process: Wait raises it on the
// collector's goroutine, the runner recovers it, and the collector's
// namespace fails with the panic as the reason. The other collectors of
// the target are unaffected.
func TestGroupPanicBecomesFailedNamespace(t *testing.T) {
	ep := target.Target{Name: "h:443", Kind: target.Endpoint, Host: "h", Port: 443}
	var ran atomic.Int32
	cs := []collect.Collector{
		fn{name: "tls", ns: "tls", applies: true, f: func(context.Context) (*facts.Facts, error) {
			var g collect.Group
			for i := range 8 {
				g.Go(func() {
					ran.Add(1)
					if i == 5 {
						var s []int
						_ = s[i] // index out of range, as a real bug would
					}
				})
			}
			g.Wait()
			t.Error("Wait returned although a goroutine panicked")
			return &facts.Facts{TLS: &facts.TLS{}}, nil
		}},
		fn{name: "http", ns: "http", applies: true, f: func(context.Context) (*facts.Facts, error) {
			return &facts.Facts{HTTP: &facts.HTTP{}}, nil
		}},
	}
	f := collect.Run(context.Background(), ep, cs, &collect.Env{}, &facts.Facts{})
	if ran.Load() != 8 {
		t.Errorf("%d goroutines ran, want 8 (the others finish)", ran.Load())
	}
	st := f.Status["tls"]
	if st.State != facts.Failed || !strings.Contains(st.Reason, "panic") || !strings.Contains(st.Reason, "index out of range") {
		t.Errorf("tls status = %+v, want failed with the panic", st)
	}
	if f.TLS != nil {
		t.Error("the panicked collector's facts were kept")
	}
	if f.Status["http"].State != facts.Collected {
		t.Errorf("http status = %+v, want collected", f.Status["http"])
	}
}

// Without a panic a Group is a WaitGroup: Wait returns once every
// goroutine is done, and it can be reused.
func TestGroupWaits(t *testing.T) {
	var g collect.Group
	var n atomic.Int32
	for range 2 {
		for range 16 {
			g.Go(func() { n.Add(1) })
		}
		g.Wait()
	}
	if n.Load() != 32 {
		t.Errorf("n = %d, want 32", n.Load())
	}
}
