package portscan

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netfail"
)

// identifier names the service on open ports of one address. Every
// connection goes through the probe's network (the Env's dialer and the
// per-host budget, keyed by the address); each read has a deadline, and no
// answer is read past maxBanner bytes.
type identifier struct {
	net          *collect.Net
	ip           string
	serverName   string // SNI for TLS when the target was named by host name
	hostHeader   string // Host header value for HTTP (without the port)
	userAgent    string
	bannerWait   time.Duration
	probeTimeout time.Duration
	// appWait bounds the wait for the answer to the request sent inside
	// a TLS connection once its handshake is done.
	appWait time.Duration
	// silence: how long a probe may hear nothing before the probes after
	// it are sent at once (identify); 0: never.
	silence time.Duration
}

// defaultOrder is the order probes are tried in when the port gives no
// hint: TLS first (a plain HTTP server answers a ClientHello with a 400,
// which identifies it too, while an HTTPS server answers a plain request
// with an HTTP error page), then the rest.
var defaultOrder = []string{probeTLS, probeHTTP, probeJRMI, probeLDAP, probePostgres, probeHazelcast, probeAMQP}

// probeOrder puts the hinted probe first.
func probeOrder(hint string) []string {
	if hint == probeNone {
		return defaultOrder
	}
	out := []string{hint}
	for _, p := range defaultOrder {
		if p != hint {
			out = append(out, p)
		}
	}
	return out
}

// outcome of one probe connection.
type outcome int

const (
	outMatched outcome = iota // identified
	outSpoke                  // the server spoke first, in a protocol we do not know: stop
	outWrapped                // the server closed at once without a word: stop
	outNoMatch                // this probe got no answer it knows: try the next
	outTLSHint                // an HTTP answer says the port speaks TLS
)

// identify names the service on port. It tries the probes in turn, each
// on a fresh connection, and stops at the first that knows the answer.
// When the first probe has heard nothing for d.silence (after the banner
// wait, for a port without a hint: a service that accepts but never
// speaks, such as a tarpit, an idle broker or a firewall), the probes
// after it go out at once, each on its own connection, each heard out for
// one short window once connected (a slot of the host's connection budget
// may have to come free first): such a port costs a window per probe
// spread over the host's budget, not one probe timeout per probe. Their
// answers are read in the same order as when they run in turn (a probe
// that could not connect is tried again in turn), so the service found is
// the same.
func (d *identifier) identify(ctx context.Context, port int) identity {
	hint := hintedProbe(port)
	order := slices.Clone(probeOrder(hint))
	ahead := &probesAhead{}
	defer ahead.stop()
	var banner string
	redialed := false
	for i := 0; i < len(order); i++ {
		if ctx.Err() != nil {
			break
		}
		r, ok := ahead.result(order[i])
		if !ok || !r.sent {
			var onSilence func(time.Duration)
			if i == 0 {
				rest := slices.Clone(order[1:])
				onSilence = func(window time.Duration) {
					ahead.start(ctx, rest, func(ctx context.Context, probe string) attemptResult {
						return d.attempt(ctx, port, probe, false, window, nil)
					})
				}
			}
			r = d.attempt(ctx, port, order[i], i == 0 && hint == probeNone, 0, onSilence)
		}
		id, raw, out := r.id, r.raw, r.out
		switch out {
		case outMatched:
			if id.service == svcHTTP && order[i] != probeHTTP {
				// An HTTP error page in answer to another protocol: ask
				// properly, for the real Server header.
				r2, ok := ahead.result(probeHTTP)
				if !ok || !r2.sent {
					r2 = d.attempt(ctx, port, probeHTTP, false, 0, nil)
				}
				if r2.out == outMatched && r2.id.service == svcHTTP {
					return r2.id
				}
			}
			return id
		case outWrapped:
			if !redialed {
				// Closed before a word: a busy server (sshd past its
				// MaxStartups drops new connections at random) as often
				// as a wrapper. Ask once more before calling it unknown.
				redialed = true
				i--
				continue
			}
			return identity{service: svcUnknown}
		case outSpoke:
			return identity{service: svcUnknown, banner: cleanBanner(string(raw))}
		case outTLSHint:
			if j := slices.Index(order, probeTLS); j > i {
				order = append(order[:j], order[j+1:]...)
				order = slices.Insert(order, i+1, probeTLS)
			}
		}
		if banner == "" && len(raw) > 0 {
			banner = cleanBanner(string(raw))
		}
	}
	return identity{service: svcUnknown, banner: banner}
}

// silentWindow is how long each probe sent at once after silence gets
// once connected: as long as the silence that started them plus four
// times the connect time of the silent connection (the network's round
// trip, as the port answers a connect), within what was left of the
// silent probe's window.
// A service that answers none of its first bytes within that window is
// still asked by every probe; only one that answers later than several
// round trips past the silence is missed (and reported unknown, never
// named wrongly).
func silentWindow(silence, connect, probeTimeout time.Duration) time.Duration {
	return min(silence+4*connect, probeTimeout-silence)
}

// attemptResult is what one probe connection found.
type attemptResult struct {
	id  identity
	raw []byte
	out outcome
	// sent: the connection was made (and the probe, if any, written).
	sent bool
}

// probesAhead are the probes a silent port sent at once (identify): each
// one's result, once it is in.
type probesAhead struct {
	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	wg      collect.Group
	results map[string]*probeAhead
}

type probeAhead struct {
	done chan struct{}
	r    attemptResult
}

// start runs every probe of probes at once (once only: later calls do
// nothing).
func (a *probesAhead) start(ctx context.Context, probes []string, run func(context.Context, string) attemptResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started || len(probes) == 0 {
		return
	}
	a.started = true
	wctx, cancel := context.WithCancel(ctx)
	a.cancel = cancel
	a.results = map[string]*probeAhead{}
	for _, p := range probes {
		pa := &probeAhead{done: make(chan struct{})}
		a.results[p] = pa
		a.wg.Go(func() {
			defer close(pa.done)
			pa.r = run(wctx, p)
		})
	}
}

// result waits for the result of probe when it was sent ahead.
func (a *probesAhead) result(probe string) (attemptResult, bool) {
	a.mu.Lock()
	pa := a.results[probe]
	a.mu.Unlock()
	if pa == nil {
		return attemptResult{}, false
	}
	<-pa.done
	return pa.r, true
}

// stop cuts the probes still under way and waits for them.
func (a *probesAhead) stop() {
	a.mu.Lock()
	a.started = true // none may start now
	cancel := a.cancel
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	a.wg.Wait()
}

// attempt opens one connection, optionally waits for the server to speak
// first, then sends probe and classifies the answer, within d.probeTimeout
// (within, when set: the window of a probe sent ahead) once connected.
// When onSilence is
// set and nothing came d.silence after the probe was sent, it is called
// (from another goroutine) with the window the probes after it get, and
// this probe's deadline moves to the end of that window too.
func (d *identifier) attempt(ctx context.Context, port int, probe string, waitBanner bool, within time.Duration, onSilence func(left time.Duration)) attemptResult {
	label := fmt.Sprintf("identify port %d: %s", port, probe)
	if waitBanner {
		label += " after a banner wait"
	}
	dialed := time.Now()
	conn, err := d.net.Dial(ctx, collect.DialSpec{Host: d.ip, Addr: net.JoinHostPort(d.ip, strconv.Itoa(port)),
		ConnectTimeout: d.probeTimeout, Label: label, QuietOK: true})
	if err != nil {
		return attemptResult{out: outNoMatch}
	}
	defer conn.Close()
	connect := time.Since(dialed)
	pc := &probeConn{Conn: conn}
	timeout := d.probeTimeout
	if within > 0 {
		timeout = within
	}

	if onSilence != nil && d.silence > 0 && d.silence < d.probeTimeout {
		// The silence counts from the connect: a banner wait is part of
		// it, and the probe sent after it is heard out for the rest.
		after := d.silence
		if waitBanner {
			after = max(after, d.bannerWait+d.silence/2)
		}
		t := time.AfterFunc(after, func() {
			if conn.BytesRead() == 0 {
				// This probe shares the window it opens for the others.
				window := silentWindow(d.silence, connect, d.probeTimeout)
				pc.capAt(time.Now().Add(window))
				onSilence(window)
			}
		})
		defer t.Stop()
	}
	if waitBanner {
		pc.setTimeout(d.bannerWait)
		id, raw, v, err := readAnswer(conn, probeNone, nil)
		switch {
		case v == matched:
			return attemptResult{id, raw, outMatched, true}
		case len(raw) > 0:
			return attemptResult{raw: raw, out: outSpoke, sent: true}
		case err != nil && !netfail.IsTimeout(err):
			return attemptResult{out: outWrapped, sent: true}
		}
	}
	if probe == probeTLS {
		id, raw, out := d.probeTLS(pc, port, timeout)
		return attemptResult{id, raw, out, true}
	}
	pc.setTimeout(timeout)
	if _, err := conn.Write(d.request(probe, port)); err != nil {
		return attemptResult{out: outNoMatch, sent: true}
	}
	id, raw, v, _ := readAnswer(conn, probe, nil)
	if v == matched {
		if id.service == svcHTTP && plainToTLSPort(raw) {
			return attemptResult{raw: raw, out: outTLSHint, sent: true}
		}
		return attemptResult{id, raw, outMatched, true}
	}
	return attemptResult{raw: raw, out: outNoMatch, sent: true}
}

// probeConn is a probe's connection whose deadline a silence can cap: once
// capped, no later timeout reaches past the cap (the timer that caps it
// runs beside the probe).
type probeConn struct {
	*collect.Conn
	mu  sync.Mutex
	end time.Time // zero: not capped
}

// setTimeout moves the deadline to d from now, never past the cap.
func (c *probeConn) setTimeout(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.end.IsZero() {
		d = min(d, time.Until(c.end))
	}
	c.Conn.SetTimeout(d)
}

// capAt ends the connection's time at end.
func (c *probeConn) capAt(end time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.end = end
	c.Conn.SetTimeout(time.Until(end))
}

// request is what a probe sends.
func (d *identifier) request(probe string, port int) []byte {
	switch probe {
	case probeHTTP:
		host := net.JoinHostPort(d.hostHeader, strconv.Itoa(port))
		return []byte("GET / HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: " + d.userAgent + "\r\nAccept: */*\r\nConnection: close\r\n\r\n")
	case probeJRMI:
		return jrmiRequest
	case probeLDAP:
		return ldapRootDSESearch()
	case probePostgres:
		return postgresSSLRequest
	case probeHazelcast:
		return hazelcastMemberHeader
	case probeAMQP:
		return amqpHeader
	}
	return nil
}

// probeTLS runs a TLS handshake (any version, any suite, no certificate
// checks: it only asks whether the port speaks TLS) and then HTTP, or LDAP
// on the LDAPS ports, inside it. A failed handshake whose server answered
// with a TLS record is still TLS; one that answered in another protocol
// (an SSH banner, an HTTP 400) is classified by that answer.
func (d *identifier) probeTLS(conn *probeConn, port int, timeout time.Duration) (identity, []byte, outcome) {
	conn.setTimeout(timeout)
	rc := &recordingConn{Conn: conn}
	tc := tls.Client(rc, collect.InspectingTLS(d.serverName))
	if err := tc.Handshake(); err != nil {
		id, raw, v, _ := readAnswer(conn, probeTLS, rc.buf)
		if v == matched {
			return id, raw, outMatched
		}
		return identity{}, raw, outNoMatch
	}
	inner := probeHTTP
	if port == 636 || port == 10636 {
		inner = probeLDAP
	}
	version := tls.VersionName(tc.ConnectionState().Version)
	conn.setTimeout(min(timeout, d.appWait))
	if _, err := tc.Write(d.request(inner, port)); err == nil {
		id, raw, v, err := readAnswer(tc, inner, nil)
		if v == matched {
			switch id.service {
			case svcHTTP:
				return identity{service: svcHTTPS, banner: id.banner}, nil, outMatched
			case svcLDAP:
				return identity{service: svcLDAPS, banner: version}, nil, outMatched
			}
		}
		if len(raw) == 0 && netfail.IsTimeout(err) {
			// No word within the wait: not known not to be HTTP.
			return identity{service: svcTLS, banner: version + facts.TLSSilentSuffix}, nil, outMatched
		}
	}
	return identity{service: svcTLS, banner: version}, nil, outMatched
}

// readAnswer reads until the bytes classify (or cannot), the deadline
// set on conn passes, the peer closes, or maxBanner bytes came.
func readAnswer(conn io.Reader, probe string, buf []byte) (identity, []byte, verdict, error) {
	tmp := make([]byte, 2048)
	for {
		if len(buf) > 0 {
			if id, v := classify(probe, buf); v != needMore || len(buf) >= maxBanner {
				return id, buf, v, nil
			}
		}
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:min(n, maxBanner-len(buf))]...)
		if err != nil {
			id, v := classify(probe, buf)
			if v == needMore {
				v = noMatch
			}
			return id, buf, v, err
		}
	}
}

// recordingConn keeps the first bytes the server sent, so a failed TLS
// handshake can still say what the server spoke.
type recordingConn struct {
	net.Conn
	buf []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if room := maxBanner - len(r.buf); room > 0 && n > 0 {
		r.buf = append(r.buf, p[:min(n, room)]...)
	}
	return n, err
}
