package tlsprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// maxBytesPerConn bounds what one probe connection may read.
const maxBytesPerConn = 1 << 20

var (
	// errNoAnswer: the server did not answer within the handshake timeout.
	errNoAnswer = netfail.New(netfail.Timeout, "no answer within the handshake timeout")
	// errUnoffered: the server chose something the client did not offer.
	errUnoffered = netfail.New(netfail.ProtocolMismatch, "server chose a value the client did not offer")
	// errStalled: the server began a handshake (a ServerHello came) and
	// did not finish it within the handshake timeout: it hangs or trickles
	// bytes. The whole probe stops with it: every further handshake would
	// wait out the timeout too.
	errStalled = netfail.New(netfail.Timeout, "the server stalled in the middle of a handshake")
)

// stall reports a handshake that began and did not finish in time, and
// stops the rest of the probe (see run).
func (p *prober) stall(what string, err error) error {
	e := fmt.Errorf("%w: %s, then nothing that finished it within the %s handshake timeout (%v)", errStalled, what, p.handshakeTimeout, err)
	if p.abort != nil {
		p.abort(e)
	}
	return e
}

// dial opens a probe connection to the address probed, under the host's
// budget, bounded by the handshake timeout (see collect.Net.Dial). label
// says what it is for.
func (p *prober) dial(ctx context.Context, label string) (*collect.Conn, error) {
	return p.net.Dial(ctx, collect.DialSpec{Host: p.host, Addr: p.addr, Label: label,
		ConnectTimeout: p.connectTimeout, Timeout: p.handshakeTimeout, MaxRead: maxBytesPerConn})
}

// isClosed reports errors that mean the peer hung up.
func isClosed(err error) bool {
	return netfail.IsHangUp(err) || errors.Is(err, net.ErrClosed)
}

// classify turns a read error into the probe's vocabulary: closed (refused),
// timeout (errNoAnswer) or the error itself.
func classifyReadErr(ctx context.Context, err error) (closed bool, out error) {
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case netfail.IsTimeout(err) && deadlinePassed(ctx):
		// The socket's deadline is the context's when that comes first,
		// and fires a moment before the context's timer: the scan's time
		// is up, not the server's.
		return false, context.DeadlineExceeded
	case isClosed(err):
		return true, nil
	case netfail.IsTimeout(err):
		return false, errNoAnswer
	}
	return false, err
}

// deadlinePassed reports whether ctx's deadline is reached.
func deadlinePassed(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// helloResult is what the server answered to one ClientHello.
type helloResult struct {
	// refused: the server sent an alert or closed before any ServerHello.
	refused bool
	alert   *tlswire.Alert
	sh      *tlswire.ServerHello
	version tlswire.Version
	suite   uint16
	certs   [][]byte
	// certErr: the Certificate message did not decode (the suite still counts).
	certErr error
	ske     *tlswire.ServerKeyExchange
	// silent: refused by a close without a single byte (no alert), also
	// on the retry: a refusal, or a server dropping connections.
	silent bool
}

func (r *helloResult) accepted() bool { return r != nil && !r.refused }

// exchange sends one ClientHello and reads the server's first flight:
// ServerHello and, for TLS 1.2 and older, everything up to ServerHelloDone.
// A hello the server answered by closing the connection without a byte is
// sent once more after the retry backoff: a server under load drops
// connections, and taking that for a refusal would lose suites or
// versions. The retry sends the very same bytes.
func (p *prober) exchange(ctx context.Context, ch *tlswire.ClientHello, recordVersion tlswire.Version) (*helloResult, error) {
	msg := ch.Marshal() // random and session ID still zero
	label := helloLabel(recordVersion, ch, msg)
	res, err := p.exchangeOnce(ctx, label, ch, msg, recordVersion, true)
	if err != nil || !res.silent {
		return res, err
	}
	if err := collect.Backoff(ctx, p.retryBackoff); err != nil {
		return nil, err
	}
	return p.exchangeOnce(ctx, label, ch, msg, recordVersion, false)
}

// exchangeOnce sends msg, ch marshalled, on a connection of its own, its
// random and session ID first drawn from the connection's randomness when
// randomize is set (msg keeps them, for a retry).
func (p *prober) exchangeOnce(ctx context.Context, label string, ch *tlswire.ClientHello, msg []byte, recordVersion tlswire.Version, randomize bool) (*helloResult, error) {
	c, err := p.dial(ctx, label)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if randomize {
		fillRandom(msg, len(ch.SessionID), c.Rand())
	}
	return p.send(ctx, c, ch, msg, recordVersion)
}

// send writes msg, ch marshalled, and reads the answer.
func (p *prober) send(ctx context.Context, c *collect.Conn, ch *tlswire.ClientHello, msg []byte, recordVersion tlswire.Version) (*helloResult, error) {
	out := tlswire.AppendRecords(nil, tlswire.TypeHandshake, recordVersion, msg)
	if _, err := c.Write(out); err != nil {
		if closed, e := classifyReadErr(ctx, err); closed {
			return &helloResult{refused: true, silent: c.BytesRead() == 0}, nil
		} else if e != nil {
			return nil, fmt.Errorf("send ClientHello: %w", e)
		}
	}
	res, err := p.readFlight(ctx, tlswire.NewReader(c), ch)
	if res != nil && res.refused && res.alert == nil && c.BytesRead() == 0 {
		res.silent = true
	}
	return res, err
}

// silentServer looks at a server that closed the connection on every
// hello without a byte: one that hangs up on a client that says nothing
// drops connections (an error: whether it speaks TLS cannot be told); one
// that waits, or speaks first, refused the hellos and is not TLS.
func (p *prober) silentServer(ctx context.Context) error {
	c, err := p.dial(ctx, "first move")
	if err != nil {
		return err
	}
	defer c.Close()
	move, err := c.WatchFirstMove(p.firstMoveWait)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fmt.Errorf("watching the server's first move: %w", err)
	case move == collect.HangsUp:
		return fmt.Errorf("the server closed every connection without sending a byte, also on retries %s later and when rampart said nothing: %w", p.retryBackoff, collect.ErrDropsConnections)
	}
	return fmt.Errorf("%w: the server closed the connection on every ClientHello without a word (it %s when the client says nothing)", errNotTLS, move)
}

func (p *prober) readFlight(ctx context.Context, rd *tlswire.Reader, ch *tlswire.ClientHello) (*helloResult, error) {
	res := &helloResult{}
	for {
		m, err := rd.Next()
		if err != nil {
			closed, e := classifyReadErr(ctx, err)
			switch {
			case res.sh != nil && ctx.Err() != nil:
				return nil, ctx.Err()
			case res.sh != nil && errors.Is(e, errNoAnswer):
				// The deadline covers the whole exchange: a server that
				// answers and then hangs (or trickles bytes) is broken, and
				// would hold every further hello as long.
				return nil, p.stall(fmt.Sprintf("a %s ServerHello choosing 0x%04X", res.version, res.suite), err)
			case res.sh != nil:
				// The ServerHello is what counts; a later close or garbage
				// only loses the rest of the flight.
				return res, nil
			}
			if closed {
				res.refused = true
				return res, nil
			}
			return nil, e
		}
		switch m.ContentType {
		case tlswire.TypeAlert:
			if res.sh != nil {
				return res, nil
			}
			if !m.Alert.Fatal() && m.Alert.Description != tlswire.AlertCloseNotify {
				continue // warnings before the ServerHello (unrecognized_name) are not refusals
			}
			a := m.Alert
			res.refused, res.alert = true, &a
			return res, nil
		case tlswire.TypeHandshake:
		default:
			if res.sh != nil {
				return res, nil
			}
			return nil, fmt.Errorf("%d-byte record of type %d before the ServerHello: %w", len(m.Body), m.ContentType, tlswire.ErrUnexpected)
		}
		if res.sh == nil {
			if m.HSType != tlswire.HSServerHello {
				return nil, fmt.Errorf("handshake message %d before the ServerHello: %w", m.HSType, tlswire.ErrUnexpected)
			}
			sh, err := tlswire.ParseServerHello(m.Body)
			if err != nil {
				return nil, err
			}
			if err := checkServerHello(ch, sh); err != nil {
				return nil, err
			}
			res.sh, res.version, res.suite = sh, sh.Version(), sh.Suite
			if res.version >= tlswire.VersionTLS13 {
				return res, nil
			}
			continue
		}
		switch m.HSType {
		case tlswire.HSCertificate:
			if res.certs == nil {
				res.certs, res.certErr = tlswire.ParseCertificates(m.Body, false)
			}
		case tlswire.HSServerKeyExchange:
			s, _ := p.reg.Lookup(res.suite)
			if kind := s.ServerKeyExchange(); kind != "" {
				ske, err := tlswire.ParseServerKeyExchange(m.Body, kind)
				if err != nil {
					return nil, fmt.Errorf("server key exchange: %w", err)
				}
				res.ske = ske
			}
		case tlswire.HSServerHelloDone:
			return res, nil
		}
	}
}

// checkServerHello rejects answers that pick what was not offered.
func checkServerHello(ch *tlswire.ClientHello, sh *tlswire.ServerHello) error {
	offered := false
	for _, s := range ch.Suites {
		if s == sh.Suite && s != tlswire.SuiteRenegotiationSCSV && s != tlswire.SuiteFallbackSCSV {
			offered = true
			break
		}
	}
	if !offered {
		return fmt.Errorf("ServerHello selected cipher suite 0x%04X: %w", sh.Suite, errUnoffered)
	}
	comp := ch.Compression
	if comp == nil {
		comp = []uint8{0}
	}
	okComp := false
	for _, c := range comp {
		okComp = okComp || c == sh.Compression
	}
	if !okComp {
		return fmt.Errorf("ServerHello selected compression method %d: %w", sh.Compression, errUnoffered)
	}
	if sh.SupportedVersion != 0 {
		found := false
		for _, v := range ch.SupportedVersions {
			found = found || v == sh.SupportedVersion
		}
		if !found {
			return fmt.Errorf("ServerHello selected version %s: %w", sh.SupportedVersion, errUnoffered)
		}
	} else if sh.LegacyVersion > ch.Version {
		return fmt.Errorf("ServerHello selected version %s above the offered %s: %w", sh.LegacyVersion, ch.Version, errUnoffered)
	}
	return nil
}
