package collect

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
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
var ErrDropsConnections = errors.New("it drops connections (overloaded, at a connection limit, or filtered)")

// WatchFirstMove waits up to wait on conn, read through r, for the
// server's first move, consuming nothing (a byte that came stays in r).
// The connection's read deadline is changed; set it again afterwards.
func WatchFirstMove(conn net.Conn, r *bufio.Reader, wait time.Duration) (FirstMove, error) {
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return Waits, err
	}
	_, err := r.Peek(1)
	switch {
	case err == nil:
		return Speaks, nil
	case IsHangUp(err):
		return HangsUp, nil
	case isTimeout(err):
		return Waits, nil
	}
	return Waits, err
}

// IsHangUp reports errors that mean the peer closed or reset the
// connection.
func IsHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
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

// ByteCounter counts the bytes read through it, so a probe can tell a
// connection closed without a byte from one closed after an answer.
type ByteCounter struct {
	R io.Reader
	N int64
}

func (c *ByteCounter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
