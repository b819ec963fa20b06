package tlsprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// Client renegotiation outcomes (facts.TLS.ClientRenegotiation).
const (
	renegAccepted = "accepted"
	renegRejected = "rejected"
	renegUnknown  = "unknown"
)

// renegOutcome is the renegotiation test's answer, plus what its handshake
// showed about compression (its hello offers DEFLATE, which saves the
// server a signed handshake for a separate compression probe).
type renegOutcome struct {
	state, note string
	// compressionKnown: the server answered the hello, so compression says
	// whether it chose DEFLATE.
	compressionKnown, compression bool
}

// clientRenegotiation completes a handshake at v with tlswire's minimal
// client and then sends a renegotiating ClientHello inside the encrypted
// channel: a ServerHello means accepted, a no_renegotiation alert, another
// alert or a closed connection means rejected.
func (p *prober) clientRenegotiation(ctx context.Context, v tlswire.Version) (renegOutcome, error) {
	out, err := p.renegotiationAttempt(ctx, v, true)
	if err == nil && out.compression {
		// Learned that much; now test renegotiation without compression.
		again, err := p.renegotiationAttempt(ctx, v, false)
		again.compressionKnown, again.compression = true, true
		return again, err
	}
	return out, err
}

func (p *prober) renegotiationAttempt(ctx context.Context, v tlswire.Version, offerDeflate bool) (renegOutcome, error) {
	label := "renegotiation " + v.String()
	if offerDeflate {
		label += " offering DEFLATE"
	}
	c, err := p.dial(ctx, label)
	if err != nil {
		return renegOutcome{}, err
	}
	defer c.Close()
	tc := tlswire.Client(c, tlswire.ClientConfig{MinVersion: v, MaxVersion: v, ServerName: p.sni, OfferDeflate: offerDeflate, Rand: c.Rand()})
	err = tc.Handshake(ctx)
	var out renegOutcome
	if sh := tc.ServerHello(); sh != nil {
		out.compressionKnown, out.compression = true, sh.Compression != 0
	}
	var alert tlswire.Alert
	switch {
	case errors.Is(err, tlswire.ErrCompressed):
		return out, nil
	case err == nil:
	case ctx.Err() != nil:
		return out, ctx.Err()
	case netfail.IsTimeout(err) && tc.ServerHello() != nil:
		return out, p.stall(fmt.Sprintf("a %s handshake (for the renegotiation test) began with a ServerHello", v), err)
	case errors.As(err, &alert) || isClosed(err) || errors.Is(err, tlswire.ErrUnsupported):
		out.state, out.note = renegUnknown, fmt.Sprintf("could not complete a %s handshake: %v", v, err)
		return out, nil
	default:
		return out, fmt.Errorf("%s handshake for the renegotiation test: %w", v, err)
	}
	out.state, out.note, err = p.renegotiate(ctx, tc, v, c.Rand())
	return out, err
}

// renegotiate sends a ClientHello in the encrypted channel and reads what
// the server does with it.
func (p *prober) renegotiate(ctx context.Context, tc *tlswire.Conn, v tlswire.Version, rnd io.Reader) (state, note string, err error) {
	ch := randomized(p.hello(v, tlswire.ClientSuites(v)), rnd)
	ch.Suites = slices.DeleteFunc(ch.Suites, func(s uint16) bool { return s == tlswire.SuiteRenegotiationSCSV })
	if tc.SecureRenegotiation() {
		ch.RenegotiationInfo = tc.ClientVerifyData()
	}
	if err := tc.WriteRecord(tlswire.TypeHandshake, ch.Marshal()); err != nil {
		if closed, _ := classifyReadErr(ctx, err); closed {
			return renegRejected, "the server closed the connection", nil
		}
		return "", "", err
	}
	for {
		m, err := tc.NextMessage()
		if err != nil {
			closed, e := classifyReadErr(ctx, err)
			switch {
			case closed:
				return renegRejected, "the server closed the connection", nil
			case errors.Is(e, errNoAnswer):
				return renegUnknown, "no answer to the renegotiation ClientHello within the handshake timeout", nil
			case e != nil && errors.Is(e, ctx.Err()):
				return "", "", e
			}
			return renegRejected, fmt.Sprintf("the server broke the connection: %v", err), nil
		}
		switch {
		case m.ContentType == tlswire.TypeAlert && m.Alert.Description == tlswire.AlertNoRenegotiation:
			return renegRejected, "the server answered with a no_renegotiation alert", nil
		case m.ContentType == tlswire.TypeAlert:
			return renegRejected, "the server answered with alert " + m.Alert.String(), nil
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSServerHello:
			return renegAccepted, "the server answered the renegotiating ClientHello with a ServerHello", nil
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSHelloRequest,
			m.ContentType == tlswire.TypeApplicationData,
			m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSNewSessionTicket:
			continue
		default:
			return renegRejected, fmt.Sprintf("the server answered with record type %d (handshake %d)", m.ContentType, m.HSType), nil
		}
	}
}
