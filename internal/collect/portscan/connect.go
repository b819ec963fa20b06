package portscan

import (
	"context"
	"errors"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// portState is what one connect attempt found.
type portState int

const (
	stateOpen portState = iota
	stateClosed
	// stateFiltered: no answer in time, or the host or network is
	// unreachable.
	stateFiltered
	// stateRetry: the attempt failed for a local reason (no ephemeral
	// port, no file descriptor) and says nothing about the port.
	stateRetry
)

// connectScanner tries full TCP connects (the kernel's own handshake: no
// raw packets, no privileges) to many ports of one address with a bounded
// number of workers, an optional rate limit shared by every scan of the
// collector, and a connect timeout that adapts to the round-trip times seen.
type connectScanner struct {
	dialer     collect.Dialer
	limiter    waiter // nil: no rate limit
	workers    int
	minTimeout time.Duration
	maxTimeout time.Duration
	// progress, when set, counts decided ports for a progress display.
	progress *progressCounter
	// onOpen, when set, is called (from the worker that found it) with
	// each port found open, as soon as it is.
	onOpen func(port int)
	// raw, when set, makes the connects itself (rawConnect) instead of
	// through dialer, for the addresses it can.
	raw *rawConnect
}

// progressCounter counts the ports a scan has decided (open, closed or
// filtered for good) and reports every progressEvery of them and the last.
type progressCounter struct {
	done, open atomic.Int64
	total      int
	report     func(done, total, open int)
}

const progressEvery = 256

func (p *progressCounter) add(open bool) {
	if p == nil {
		return
	}
	o := p.open.Load()
	if open {
		o = p.open.Add(1)
	}
	if d := p.done.Add(1); d%progressEvery == 0 || int(d) == p.total {
		p.report(int(d), p.total, int(o))
	}
}

// connectResult is the outcome of scanning the ports of one address.
type connectResult struct {
	open     []int
	closed   int
	filtered int
	// source is the local address of the first connection that opened.
	source string
	// transient counts attempts that failed for local reasons (out of
	// ephemeral ports or file descriptors) and were retried.
	transient int
}

// rttEstimator keeps a smoothed round-trip time and its variation (as TCP
// does, RFC 6298) from connects that got an answer, open or refused.
type rttEstimator struct {
	mu      sync.Mutex
	srtt    time.Duration
	rttvar  time.Duration
	samples int
}

func (e *rttEstimator) add(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.samples == 0 {
		e.srtt, e.rttvar = d, d/2
	} else {
		diff := e.srtt - d
		if diff < 0 {
			diff = -diff
		}
		e.rttvar = (3*e.rttvar + diff) / 4
		e.srtt = (7*e.srtt + d) / 8
	}
	e.samples++
}

// timeout is the connect timeout to use now: the maximum until a few
// answers were seen, then srtt + 4·rttvar, doubled for slack, within the
// bounds.
func (e *rttEstimator) timeout(lo, hi time.Duration) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.samples < 4 {
		return hi
	}
	t := 2 * (e.srtt + 4*e.rttvar)
	return min(max(t, lo), hi)
}

// scan connects to every port of ip. Workers take ports by index and keep
// their own tallies, so the only shared state on the hot path is the
// round-trip estimator. Ports that timed out under a timeout shorter than
// the maximum are tried once more with the maximum, so a shrinking timeout
// never turns a slow open port into a filtered one.
func (s *connectScanner) scan(ctx context.Context, ip string, ports []int) (connectResult, error) {
	var (
		est   rttEstimator
		res   connectResult
		retry []int
	)
	var mu sync.Mutex
	merge := func(local connectResult, again []int) {
		mu.Lock()
		defer mu.Unlock()
		res.open = append(res.open, local.open...)
		if res.source == "" {
			res.source = local.source
		}
		res.closed += local.closed
		res.filtered += local.filtered
		res.transient += local.transient
		retry = append(retry, again...)
	}
	raw := s.raw != nil && s.raw.usable(ip)
	run := func(ports []int, adaptive bool) error {
		if raw {
			s.raw.run(ctx, s, ip, ports, adaptive, &est, merge)
			return ctx.Err()
		}
		var (
			next atomic.Int64
			wg   collect.Group
		)
		for range min(s.workers, len(ports)) {
			wg.Go(func() {
				// Each worker's dials hang off its own context, so they do
				// not all contend for the scan context's lock.
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				var local connectResult
				var again []int
				timeout := s.maxTimeout
				dl := &dialDeadline{parent: ctx}
				defer dl.stop()
				for n := 0; ctx.Err() == nil; n++ {
					i := int(next.Add(1)) - 1
					if i >= len(ports) {
						break
					}
					if adaptive && n%16 == 0 {
						timeout = est.timeout(s.minTimeout, s.maxTimeout)
					}
					p := ports[i]
					st, src, rtt, transient := s.try(ctx, dl.get(timeout), ip, p)
					local.transient += transient
					if !s.tally(&local, &est, p, st, rtt, src) {
						if timeout < s.maxTimeout {
							again = append(again, p)
						} else {
							local.filtered++
							s.progress.add(false)
						}
					}
				}
				merge(local, again)
			})
		}
		wg.Wait()
		return ctx.Err()
	}
	if err := run(ports, true); err != nil {
		return res, err
	}
	if len(retry) > 0 {
		again := retry
		retry = nil
		sort.Ints(again)
		if err := run(again, false); err != nil {
			return res, err
		}
	}
	sort.Ints(res.open)
	return res, nil
}

// maxTransient bounds the retries of one port after local failures.
const maxTransient = 8

// dialDeadline hands a worker's dials a context whose deadline lies
// between three quarters of the timeout and the timeout ahead: renewing it
// only when a quarter is spent saves a context and a timer per connect,
// about a tenth of the cost of a refused connect on a LAN. A port thus
// counts as filtered once it has not answered within at least 3/4 of the
// timeout.
type dialDeadline struct {
	parent   context.Context
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
	timeout  time.Duration
}

func (d *dialDeadline) get(timeout time.Duration) context.Context {
	now := time.Now()
	if d.ctx == nil || timeout != d.timeout || d.deadline.Sub(now) < timeout*3/4 {
		d.stop()
		d.timeout, d.deadline = timeout, now.Add(timeout)
		d.ctx, d.cancel = context.WithDeadline(d.parent, d.deadline)
	}
	return d.ctx
}

func (d *dialDeadline) stop() {
	if d.cancel != nil {
		d.cancel()
	}
}

// tally counts a port that answered in local: open (its round trip for
// the window, the first source address, progress and the onOpen hook)
// or closed. It reports false for a port that did not answer, which the
// caller asks again or counts as filtered.
func (s *connectScanner) tally(local *connectResult, est *rttEstimator, p int, st portState, rtt time.Duration, src string) bool {
	switch st {
	case stateOpen:
		est.add(rtt)
		local.open = append(local.open, p)
		if local.source == "" {
			local.source = src
		}
		s.progress.add(true)
		if s.onOpen != nil {
			s.onOpen(p)
		}
	case stateClosed:
		est.add(rtt)
		local.closed++
		s.progress.add(false)
	default:
		return false
	}
	return true
}

// try connects once to ip:port within dctx's deadline (retrying local
// resource failures) and says what it found, with the local address of an
// open connection and the time the answer took.
func (s *connectScanner) try(ctx, dctx context.Context, ip string, port int) (st portState, src string, rtt time.Duration, transient int) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	for attempt := 0; ; attempt++ {
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				return stateFiltered, "", 0, transient
			}
		}
		start := time.Now()
		conn, err := s.dialer.DialContext(dctx, "tcp", addr)
		rtt = time.Since(start)
		if err == nil {
			if la, ok := conn.LocalAddr().(*net.TCPAddr); ok {
				src = la.IP.String()
			}
			_ = conn.Close()
			return stateOpen, src, rtt, transient
		}
		switch classifyDialError(err) {
		case stateClosed:
			return stateClosed, "", rtt, transient
		case stateRetry:
			transient++
			if attempt >= maxTransient || ctx.Err() != nil {
				return stateFiltered, "", rtt, transient
			}
			select {
			case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
			case <-ctx.Done():
				return stateFiltered, "", rtt, transient
			}
			continue
		default:
			return stateFiltered, "", rtt, transient
		}
	}
}

// classifyDialError maps a connect error to a port state: refused is
// closed; a timeout or an unreachable host or network is filtered; a
// local resource shortage (no ephemeral port, no file descriptor, no
// buffer) is stateRetry.
func classifyDialError(err error) portState {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return stateClosed
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE),
		errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		return stateRetry
	}
	return stateFiltered
}
