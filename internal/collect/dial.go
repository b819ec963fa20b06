package collect

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// This file is the one place where probes open connections. Every probe
// connection takes a slot of its host's budget, is dialed through the
// Env's Dialer within a connect timeout, carries a deadline (the
// connection's own, never past its context's) and is cut short when its
// context ends, reads through a bounded buffer, and closes by giving its
// slot back. Its failures are classified by internal/netfail.

// Default bounds of a probe connection.
const (
	// DefaultConnectTimeout bounds a TCP connect.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultMaxRead bounds what one connection may read.
	DefaultMaxRead = 1 << 20
	// NoReadLimit as DialSpec.MaxRead lifts the bound (net/http's pooled
	// connections, whose requests bound their own headers and bodies).
	NoReadLimit = -1
)

// ErrReadLimit: the peer sent more than the connection may read.
var ErrReadLimit = netfail.New(netfail.TooLarge, "the server sent more than a probe connection reads")

// Net is one probe's access to the network: the Env's dialer, the scan's
// per-host budget (or, for a collector used on its own, a budget of its
// own) and the Env's randomness. A probe makes one per target and dials
// every connection through it.
type Net struct {
	dialer  Dialer
	hosts   *HostLimiter
	entropy Entropy
	// dials counts the connections opened, bytesIn what came on them.
	dials, bytesIn atomic.Int64
}

// Entropy gives each connection its randomness. A nil Entropy (the
// default) gives crypto/rand to every connection; tests give each
// connection a stream derived from its label, so a probe's bytes are the
// same on every run and recorded conversations replay.
type Entropy interface {
	Stream(label string) io.Reader
}

// Net returns the probe's network. perHost is the probe's own connection
// limit per host, used when the Env sets none (Env.PerHost); the budget is
// the scan's shared one (Env.Hosts) when there is one.
//
// The budget of a probe's own widens for hosts that answer fast when the
// Env allows more connections than perHost (Env.PerHostMax; see
// NewAdaptiveHostLimiter).
func (e *Env) Net(perHost int) *Net {
	n := &Net{}
	perHostMax := 0
	if e != nil {
		n.dialer, n.entropy = e.Dialer, e.Entropy
		if e.PerHost > 0 {
			perHost = e.PerHost
		}
		n.hosts, perHostMax = e.Hosts, e.PerHostMax
	}
	if n.dialer == nil {
		n.dialer = &net.Dialer{}
	}
	if n.hosts == nil {
		n.hosts = NewAdaptiveHostLimiter(perHost, perHostMax, 0)
	}
	return n
}

// PerHost is the most connections the probe may ever have open to one
// host at once (0: no limit): the budget's largest window.
func (n *Net) PerHost() int { return n.hosts.MaxLimit() }

// Dials is how many connections the probe opened.
func (n *Net) Dials() int64 { return n.dials.Load() }

// BytesRead is how many bytes came from the peers on all of them.
func (n *Net) BytesRead() int64 { return n.bytesIn.Load() }

// Hold takes a slot of host's budget without a connection, for probes
// whose connections a library pools (net/http): each request holds a slot
// while it runs, and its connections are dialed with DialSpec.Pooled.
func (n *Net) Hold(ctx context.Context, host string) (release func(), err error) {
	release, err = n.hosts.Acquire(ctx, budgetKey(host))
	if err != nil {
		return nil, fmt.Errorf("waiting for a connection slot: %w", err)
	}
	return release, nil
}

func budgetKey(host string) string { return strings.ToLower(host) }

// DialSpec says where one probe connection goes and within which bounds.
type DialSpec struct {
	// Host is the host as the target names it: the key of its budget
	// (case does not matter).
	Host string
	// Addr is the host:port dialed.
	Addr string
	// ConnectTimeout bounds the TCP connect (default
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// Timeout bounds the connection from the end of the connect (0: only
	// the context's deadline); the context's deadline wins when sooner.
	// SetTimeout and Bind move it.
	Timeout time.Duration
	// MaxRead bounds what the connection may read (default
	// DefaultMaxRead; NoReadLimit for none); a read past it fails with
	// ErrReadLimit.
	MaxRead int64
	// Label says what the connection is for ("TLSv1.2 hello ...", "ssh
	// host key ssh-ed25519"). A recorded conversation is found by it
	// (DialLabel), and with a deterministic Entropy the connection's
	// randomness derives from it.
	Label string
	// Pooled: the connection is for a library's pool (net/http), where
	// requests, not connections, take the budget's slots (see Hold) and a
	// connection outlives the context it was dialed with. Dial takes no
	// slot, and the context bounds the connect only; the pool's user sets
	// the deadlines and closes it.
	Pooled bool
	// QuietOK: the peer may rightly never answer, or answer late (a port
	// scan waiting for a banner, or asking a service it does not know yet
	// which protocol it speaks), so what it says or does not say is no
	// sign of how loaded the host is: the host's answer that sets an
	// adaptive budget's window is the connect itself (one faster than the
	// ceiling widens it, a slower one narrows it), and the connection's
	// silence narrows nothing.
	QuietOK bool
}

type labelKey struct{}

// DialLabel is the label of the connection being dialed with ctx, for a
// Dialer that records or replays conversations.
func DialLabel(ctx context.Context) string {
	s, _ := ctx.Value(labelKey{}).(string)
	return s
}

// Dial opens a probe connection: it waits for a slot of the host's budget,
// connects within the connect timeout, and returns the connection bounded
// by s and bound to ctx (cancelling ctx unblocks its reads and writes at
// once). Close gives the slot back.
func (n *Net) Dial(ctx context.Context, s DialSpec) (*Conn, error) {
	release := func() {}
	if !s.Pooled {
		r, err := n.Hold(ctx, s.Host)
		if err != nil {
			return nil, err
		}
		release = r
	}
	timeout := s.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	dctx, cancel := context.WithTimeout(context.WithValue(ctx, labelKey{}, s.Label), timeout)
	connecting := time.Now()
	raw, err := n.dialer.DialContext(dctx, "tcp", s.Addr)
	cancel()
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect %s: %w", s.Addr, ctx.Err())
		}
		return nil, fmt.Errorf("connect %s: %w", s.Addr, err)
	}
	n.dials.Add(1)
	c := &Conn{raw: raw, label: s.Label, release: release, ctx: ctx}
	if s.Pooled {
		c.ctx = context.Background()
	} else {
		// How soon the host answers sets its window (an adaptive budget).
		hosts, key, dialed := n.hosts, budgetKey(s.Host), time.Now()
		c.observe = func(answered bool) { hosts.Observe(key, time.Since(dialed), answered) }
		if s.QuietOK {
			// See DialSpec.QuietOK: the connect is the host's answer.
			c.observed.Store(true)
			hosts.Observe(key, dialed.Sub(connecting), true)
		}
	}
	var src io.Reader = &c.in
	c.in.r, c.in.total = raw, &n.bytesIn
	c.in.first = c.answered
	switch {
	case s.MaxRead == 0:
		src = &limitReader{r: src, left: DefaultMaxRead}
	case s.MaxRead > 0:
		src = &limitReader{r: src, left: s.MaxRead}
	}
	c.r = bufio.NewReaderSize(src, 4096)
	c.rand = rand.Reader
	if n.entropy != nil {
		c.rand = n.entropy.Stream(s.Label)
	}
	if s.Timeout > 0 {
		c.SetTimeout(s.Timeout)
	} else {
		dl, _ := c.ctx.Deadline() // zero: none
		c.setDeadline(dl)
	}
	c.stop = context.AfterFunc(c.ctx, c.cut)
	return c, nil
}

// Conn is one probe connection (see Net.Dial). Reads go through its
// bounded buffer; it is a net.Conn, so TLS clients can run over it.
type Conn struct {
	raw     net.Conn
	r       *bufio.Reader
	in      counter
	label   string
	rand    io.Reader
	ctx     context.Context // the connection's: Dial's
	stop    func() bool
	release func()
	once    sync.Once
	// deadline is the one last set (what WatchFirstMove puts back).
	deadline time.Time
	// observe tells the host's budget how the connection went (nil for a
	// pooled one): its first bytes came, or it closed without any after
	// rampart spoke. wrote and observed say whether that happened.
	observe         func(answered bool)
	wrote, observed atomic.Bool
}

// answered is called with the peer's first bytes.
func (c *Conn) answered() {
	if c.observe != nil && !c.observed.Swap(true) {
		c.observe(true)
	}
}

func (c *Conn) setDeadline(t time.Time) {
	c.deadline = t
	_ = c.raw.SetDeadline(t)
	c.cutIfDone()
}

// cutIfDone cuts the connection short if its context ended meanwhile (a
// deadline set after the context's AfterFunc ran would undo it).
func (c *Conn) cutIfDone() {
	if c.ctx.Err() != nil {
		c.cut()
	}
}

// cut unblocks every read and write at once.
func (c *Conn) cut() { _ = c.raw.SetDeadline(time.Unix(1, 0)) }

// Read reads through the connection's bounded buffer.
func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write writes to the peer.
func (c *Conn) Write(p []byte) (int, error) {
	c.wrote.Store(true)
	return c.raw.Write(p)
}

// Reader is the connection's buffered reader (Read reads through it too).
func (c *Conn) Reader() *bufio.Reader { return c.r }

// BytesRead is how many bytes came from the peer so far (buffered or not).
func (c *Conn) BytesRead() int64 { return c.in.n.Load() }

// Rand is the connection's source of randomness (see Entropy).
func (c *Conn) Rand() io.Reader { return c.rand }

// Label is what the connection is for (DialSpec.Label).
func (c *Conn) Label() string { return c.label }

// SetTimeout moves the connection's deadline to d from now, never past
// its context's deadline (and into the past when the context has ended).
func (c *Conn) SetTimeout(d time.Duration) {
	c.SetTimeoutFor(c.ctx, d)
}

// SetTimeoutFor is SetTimeout with the deadline of ctx (a step's context
// derived from the connection's) as the cap.
func (c *Conn) SetTimeoutFor(ctx context.Context, d time.Duration) {
	if ctx.Err() != nil {
		c.cut()
		return
	}
	dl := time.Now().Add(d)
	for _, x := range []context.Context{ctx, c.ctx} {
		if cd, ok := x.Deadline(); ok && cd.Before(dl) {
			dl = cd
		}
	}
	c.setDeadline(dl)
}

// Bind gives the connection ctx's deadline (none when ctx has none) and
// cuts it short when ctx ends, for one step of a conversation that has
// its own context; the returned function ends that (the deadline stays).
func (c *Conn) Bind(ctx context.Context) (unbind func() bool) {
	dl, _ := ctx.Deadline()
	if cd, ok := c.ctx.Deadline(); ok && (dl.IsZero() || cd.Before(dl)) {
		dl = cd
	}
	c.setDeadline(dl)
	return context.AfterFunc(ctx, c.cut)
}

// WatchFirstMove waits up to wait for the peer's first move while saying
// nothing, consuming nothing (a byte that came stays buffered), then puts
// the connection's deadline back.
func (c *Conn) WatchFirstMove(wait time.Duration) (FirstMove, error) {
	move, err := watchFirstMove(c.raw, c.r, wait)
	_ = c.raw.SetReadDeadline(c.deadline)
	c.cutIfDone()
	return move, err
}

// Close closes the connection and gives its slot back. It is safe to call
// more than once.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.stop()
		if c.observe != nil && c.wrote.Load() && !c.observed.Swap(true) {
			c.observe(false) // spoke and heard nothing back
		}
		err = c.raw.Close()
		c.release()
	})
	return err
}

// SetWriteTimeout bounds the next writes to d from now (a goodbye sent on
// a connection about to close).
func (c *Conn) SetWriteTimeout(d time.Duration) { _ = c.raw.SetWriteDeadline(time.Now().Add(d)) }

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline implements net.Conn (for TLS clients run over the
// connection; probes use SetTimeout and Bind).
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// limitReader fails with ErrReadLimit past its bound (io.LimitReader
// would say io.EOF, which reads as the peer closing).
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrReadLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
