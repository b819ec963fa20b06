package httpprobe

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// The catalogue's requests share as few connections as keep it quick.
// Each connection costs the server (and rampart) a TCP connect and, over
// HTTPS, a TLS handshake, resumed or not; HTTP/1.1 keeps a connection
// alive from one request to the next. A server that answers fast (one on
// the same network, or a fleet's on one machine) gets the catalogue on one
// connection; a distant or slow one gets more, up to the host's window.
const (
	// catalogueWindow is how long the catalogue may take on the
	// connections it has, as its answers so far predict, before another
	// is opened.
	catalogueWindow = 250 * time.Millisecond
	// defaultSlowRequest is how long a request may be in flight before
	// another connection is opened beside it (a stalled server is not
	// waited on one request at a time): Options.SlowRequest.
	defaultSlowRequest = 100 * time.Millisecond
	// settled is how many answers the prediction waits for; it takes
	// their median: one slow answer (a pause of rampart's own, a busy
	// moment of the server's) predicts nothing.
	settled = 4
)

// pacer hands the catalogue's requests to its workers, one connection
// each, and adds a worker when the answers say the rest would take longer
// than catalogueWindow on the workers there are, or when a request is
// slower than Options.SlowRequest; never more than max.
type pacer struct {
	mu      sync.Mutex
	n       int // requests
	next    int // the next request to hand out
	workers int
	max     int
	// latencies are those of the requests done so far; their median
	// predicts the rest.
	latencies []time.Duration
	start     func() // starts one more worker (called with mu held)
}

// take hands out the next request, or reports that none is left.
func (pc *pacer) take() (int, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.next >= pc.n {
		return 0, false
	}
	pc.next++
	return pc.next - 1, true
}

// finished records a request's latency and adds the workers it calls for.
func (pc *pacer) finished(latency time.Duration) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.latencies = append(pc.latencies, latency)
	if len(pc.latencies) < settled {
		return
	}
	sorted := slices.Clone(pc.latencies)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	left := time.Duration(pc.n - pc.next)
	for pc.workers < pc.max && pc.next < pc.n && median*left > catalogueWindow*time.Duration(pc.workers) {
		pc.grow()
	}
}

// slow adds a worker beside a request still in flight after
// Options.SlowRequest.
func (pc *pacer) slow() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.workers < pc.max && pc.next < pc.n {
		pc.grow()
	}
}

// grow starts a worker. A worker stops only once every request is handed
// out, so while one is left (next < n) every worker started still runs:
// the group's Wait cannot have returned. Called with mu held.
func (pc *pacer) grow() {
	pc.workers++
	pc.start()
}

// fetchAll fetches specs into answers (by index) through a pacer, each
// worker on a connection of its own (the first on the root's).
func (p *prober) fetchAll(ctx context.Context, specs []probeSpec, answers []*answer) {
	var wg collect.Group
	pc := &pacer{n: len(specs), max: p.net.PerHost()}
	if pc.max <= 0 {
		pc.max = len(specs)
	}
	work := func(w int) {
		tr := p.transport(w)
		for {
			i, ok := pc.take()
			if !ok {
				return
			}
			s := specs[i]
			t := time.AfterFunc(p.opts.SlowRequest, pc.slow)
			a := p.fetchOn(ctx, tr, request{method: http.MethodGet, path: s.k.path, follow: true, pageScan: s.notFound})
			t.Stop()
			digest(a)
			answers[i] = a
			pc.finished(a.latency)
		}
	}
	pc.start = func() {
		w := pc.workers - 1 // the root's connection is worker 0's
		wg.Go(func() { work(w) })
	}
	pc.mu.Lock()
	pc.grow()
	pc.mu.Unlock()
	wg.Wait()
	p.env.Log().Debug("http probe: catalogue fetched", "target", p.t.Name, "requests", len(specs), "workers", pc.workers, "connections", p.net.Dials())
}
