// Package transcript records the conversations a probe has with a real
// server and replays them offline, as crypto/tls's tests do: a test runs
// its probe once against the live server with a Recorder as the
// environment's dialer (go test -update, which needs the server), the
// conversation is written under testdata, and every later `go test`
// replays it through a Replayer, with no server installed, asserting the
// same facts.
//
// Replaying works because a probe's bytes are a function of what the
// server said: every connection is dialed with a label saying what it is
// for (collect.DialLabel) and draws its randomness from a stream derived
// from that label (entropy.Seeded), so the same probe sends the same bytes
// on every run. The Replayer finds each connection by its label, checks
// that the probe writes exactly what was recorded, and answers with what
// the server answered, timeouts and resets included (at once: a replay
// never waits). A probe that changed what it sends, or opens a connection
// the recording does not have, fails the replay: refresh the recording
// with -update.
//
// Test code only.
package transcript

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
)

// formatVersion is the version of the file format.
const formatVersion = 1

// File is one recording: the conversations of one test with one server.
type File struct {
	Version int `json:"version"`
	// Recorded is when it was recorded: a replay's clock (certificates
	// are judged at that time).
	Recorded time.Time `json:"recorded"`
	// Seed is the entropy seed the probe ran with (entropy.Seeded).
	Seed string `json:"seed"`
	// Target is the address the test probed; Meta what the live server
	// told the test besides (the suites a JDK enables, say).
	Target string            `json:"target"`
	Meta   map[string]string `json:"meta,omitempty"`
	Conns  []Conn            `json:"conns"`
}

// Conn is one connection, in the order the probe dialed them.
type Conn struct {
	Label string `json:"label"`
	Addr  string `json:"addr"`
	// DialError is why the connect failed (see errKind); then there are
	// no events.
	DialError string  `json:"dial_error,omitempty"`
	Events    []Event `json:"events,omitempty"`
}

// Event is what one or more calls of the same kind did: "w", bytes the
// probe wrote; "r", bytes it read; with Err, the error a read or write
// ended in (see errKind).
type Event struct {
	Op   string `json:"op"`
	Data []byte `json:"data,omitempty"`
	Err  string `json:"err,omitempty"`
}

// Load reads a recording.
func Load(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var f File
	dec := json.NewDecoder(zr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Version != formatVersion {
		return nil, fmt.Errorf("%s: format version %d, want %d", path, f.Version, formatVersion)
	}
	return &f, nil
}

// Save writes the recording (gzipped JSON; the gzip header carries no
// time, so the same conversation gives the same bytes).
func (f *File) Save(path string) error {
	f.Version = formatVersion
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(zw)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// errKinds are the errors a recording names, by the kind a probe tells
// apart; a system call error is replayed inside a *net.OpError, as the
// network gives it.
var errKinds = []struct {
	name string
	err  error
}{
	{"eof", io.EOF}, {"unexpected_eof", io.ErrUnexpectedEOF}, {"closed", net.ErrClosed},
	{"canceled", context.Canceled}, {"refused", syscall.ECONNREFUSED},
	{"reset", syscall.ECONNRESET}, {"epipe", syscall.EPIPE},
}

// errKind names an error for the recording: one of errKinds, "timeout",
// or the text of anything else.
func errKind(err error) string {
	if err == nil {
		return ""
	}
	for _, k := range errKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	if netfail.IsTimeout(err) {
		return "timeout"
	}
	return "error: " + err.Error()
}

// kindErr is the error a replay returns for a recorded kind, shaped as
// the network would give it, so the probe's classification sees the same.
func kindErr(kind, op, addr string) error {
	opErr := func(err error) error {
		var ra net.Addr
		if a, e := net.ResolveTCPAddr("tcp", addr); e == nil {
			ra = a
		}
		return &net.OpError{Op: op, Net: "tcp", Addr: ra, Err: err}
	}
	if kind == "timeout" {
		return opErr(os.ErrDeadlineExceeded)
	}
	for _, k := range errKinds {
		if k.name != kind {
			continue
		}
		if errno, ok := k.err.(syscall.Errno); ok {
			return opErr(os.NewSyscallError(op, errno))
		}
		return k.err
	}
	return errors.New(strings.TrimPrefix(kind, "error: "))
}

// Recorder is a collect.Dialer that dials through Dialer and records every
// connection.
type Recorder struct {
	Dialer collect.Dialer
	mu     sync.Mutex
	conns  []*recConn
}

// DialContext implements collect.Dialer.
func (r *Recorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := r.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.DialContext(ctx, network, addr)
	rc := &recConn{Conn: c, rec: Conn{Label: collect.DialLabel(ctx), Addr: addr, DialError: errKind(err)}}
	r.mu.Lock()
	r.conns = append(r.conns, rc)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// Conns returns what was recorded so far.
func (r *Recorder) Conns() []Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Conn, len(r.conns))
	for i, c := range r.conns {
		c.mu.Lock()
		out[i] = c.rec
		out[i].Events = append([]Event(nil), c.rec.Events...)
		c.mu.Unlock()
	}
	return out
}

// recConn records what goes through a connection.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	rec Conn
}

// add appends an event, joining it to the last one when both carry data
// of the same kind (how the calls were cut up does not matter).
func (c *recConn) add(op string, data []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := &c.rec.Events
	if len(data) > 0 {
		if n := len(*ev); n > 0 && (*ev)[n-1].Op == op && (*ev)[n-1].Err == "" {
			(*ev)[n-1].Data = append((*ev)[n-1].Data, data...)
		} else {
			*ev = append(*ev, Event{Op: op, Data: bytes.Clone(data)})
		}
	}
	if err != nil {
		*ev = append(*ev, Event{Op: op, Err: errKind(err)})
	}
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.add("r", p[:n], err)
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.add("w", p[:n], err)
	return n, err
}

// Replayer is a collect.Dialer that answers from a recording.
type Replayer struct {
	mu      sync.Mutex
	queues  map[string][]*Conn
	used    int
	total   int
	diverge []string
}

// NewReplayer replays f's connections.
func NewReplayer(f *File) *Replayer {
	r := &Replayer{queues: map[string][]*Conn{}, total: len(f.Conns)}
	for i := range f.Conns {
		c := &f.Conns[i]
		r.queues[c.Label] = append(r.queues[c.Label], c)
	}
	return r
}

func (r *Replayer) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.diverge) < 20 {
		r.diverge = append(r.diverge, fmt.Sprintf(format, args...))
	}
}

// Err says how the replayed probe departed from the recording: a
// connection the recording does not have, other bytes written, a read
// past the recorded conversation, connections recorded and never dialed.
func (r *Replayer) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := append([]string(nil), r.diverge...)
	if r.used < r.total {
		var left []string
		for label, q := range r.queues {
			if len(q) > 0 {
				left = append(left, fmt.Sprintf("%q x%d", label, len(q)))
			}
		}
		msgs = append(msgs, fmt.Sprintf("%d of %d recorded connections were never dialed: %v", r.total-r.used, r.total, left))
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the probe departed from its recording (refresh it with -update against the live server):\n%s", joinLines(msgs))
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for _, l := range s {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// DialContext implements collect.Dialer.
func (r *Replayer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	label := collect.DialLabel(ctx)
	r.mu.Lock()
	q := r.queues[label]
	var c *Conn
	if len(q) > 0 {
		c, r.queues[label] = q[0], q[1:]
		r.used++
	}
	r.mu.Unlock()
	switch {
	case c == nil:
		r.fail("dialed %s for %q: no such connection in the recording", addr, label)
		return nil, fmt.Errorf("transcript: no recorded connection %q", label)
	case c.Addr != addr:
		r.fail("dialed %s for %q: the recording dialed %s", addr, label, c.Addr)
	}
	if c.DialError != "" {
		return nil, kindErr(c.DialError, "dial", addr)
	}
	return &replayConn{r: r, c: c, addr: addr}, nil
}

// replayConn plays one recorded connection back.
type replayConn struct {
	r      *Replayer
	c      *Conn
	addr   string
	mu     sync.Mutex
	ev     int // the next event
	off    int // bytes of it already played
	closed bool
	bad    bool // departed: every call fails from then on
	last   error
}

var errDeparted = errors.New("transcript: the probe departed from the recorded conversation")

func (c *replayConn) depart(format string, args ...any) error {
	c.bad = true
	c.r.fail("connection %q: "+format, append([]any{c.c.Label}, args...)...)
	return errDeparted
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.bad:
		return 0, errDeparted
	case len(p) == 0:
		return 0, nil
	}
	if c.ev >= len(c.c.Events) {
		if c.last != nil {
			return 0, c.last // an error the conversation ended in, again
		}
		return 0, c.depart("read past the end of the recorded conversation")
	}
	e := c.c.Events[c.ev]
	switch {
	case e.Op != "r":
		return 0, c.depart("read where the recording wrote %d bytes", len(e.Data)-c.off)
	case e.Err != "":
		c.ev++
		c.last = kindErr(e.Err, "read", c.addr)
		return 0, c.last
	}
	n := copy(p, e.Data[c.off:])
	c.off, c.last = c.off+n, nil
	if c.off == len(e.Data) {
		c.ev, c.off = c.ev+1, 0
	}
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.bad:
		return 0, errDeparted
	}
	written := 0
	for written < len(p) {
		if c.ev >= len(c.c.Events) {
			return written, c.depart("wrote %d bytes past the end of the recorded conversation", len(p)-written)
		}
		e := c.c.Events[c.ev]
		switch {
		case e.Op != "w":
			return written, c.depart("wrote %d bytes where the recording read", len(p)-written)
		case e.Err != "":
			c.ev++
			return written, kindErr(e.Err, "write", c.addr)
		}
		want := e.Data[c.off:]
		n := min(len(want), len(p)-written)
		if !bytes.Equal(p[written:written+n], want[:n]) {
			i := 0
			for i < n && p[written+i] == want[i] {
				i++
			}
			return written, c.depart("wrote other bytes than recorded at byte %d of a write: % x, recorded % x",
				written+i, p[written+i:min(written+i+16, len(p))], want[i:min(i+16, len(want))])
		}
		written += n
		c.off += n
		if c.off == len(e.Data) {
			c.ev, c.off = c.ev+1, 0
		}
	}
	return written, nil
}

func (c *replayConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

type replayAddr string

func (a replayAddr) Network() string { return "tcp" }
func (a replayAddr) String() string  { return string(a) }

func (c *replayConn) LocalAddr() net.Addr              { return replayAddr("127.0.0.1:0") }
func (c *replayConn) RemoteAddr() net.Addr             { return replayAddr(c.addr) }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
