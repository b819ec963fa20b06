package collect

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// FirstMove is what a server does on a fresh connection while the client
// says nothing. It tells a server that drops connections (overloaded, at a
// connection limit such as OpenSSH's MaxStartups, behind a filter that
// accepts and closes) from one that only refused what a probe sent: a
// server of a client-first protocol (TLS, HTTP) waits, an SSH server
// speaks, a dropping one hangs up.
type FirstMove int

const (
	// Waits: nothing came within the wait; the server waits for its client.
	Waits FirstMove = iota
	// Speaks: the server sent bytes first.
	Speaks
	// HangsUp: the server closed or reset the connection without a byte.
	HangsUp
)

func (m FirstMove) String() string {
	switch m {
	case Speaks:
		return "speaks first"
	case HangsUp:
		return "hangs up"
	}
	return "waits for the client"
}

// DefaultFirstMoveWait is how long a probe waits for a server's first
// move: a dropping server closes at once, an SSH server greets at once.
const DefaultFirstMoveWait = 500 * time.Millisecond

// DefaultRetryBackoff is how long a probe waits before its one retry of a
// connection the server dropped.
const DefaultRetryBackoff = time.Second

// ErrDropsConnections marks a server that closed a probe's connection
// before it said anything of its protocol (without a byte, or after a
// "too many connections" line), also on a retry: whether and how it speaks
// the probe's protocol cannot be told.
var ErrDropsConnections = netfail.New(netfail.ClosedEarly, "it drops connections (overloaded, at a connection limit, or filtered)")

// watchFirstMove waits up to wait on conn, read through r, for the
// server's first move, consuming nothing (a byte that came stays in r).
// The connection's read deadline is changed; the caller sets it again.
func watchFirstMove(conn net.Conn, r *bufio.Reader, wait time.Duration) (FirstMove, error) {
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return Waits, err
	}
	_, err := r.Peek(1)
	switch {
	case err == nil:
		return Speaks, nil
	case netfail.IsHangUp(err):
		return HangsUp, nil
	case netfail.IsTimeout(err):
		return Waits, nil
	}
	return Waits, err
}

// Backoff waits d before a retry, or until ctx ends (its error).
func Backoff(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counter counts the bytes read through it, so a probe can tell a
// connection closed without a byte from one closed after an answer.
type counter struct {
	r     io.Reader
	n     atomic.Int64
	total *atomic.Int64 // the Net's, over all its connections
	// first, when set, is called when the first bytes come.
	first func()
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.first != nil && c.n.Load() == 0 {
		c.first()
	}
	c.n.Add(int64(n))
	c.total.Add(int64(n))
	return n, err
}
