package sshprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// clientIdent is what rampart calls itself on the wire.
const clientIdent = "SSH-2.0-rampart"

// maxBanner bounds the pre-authentication banner kept.
const maxBanner = 4096

// conn is one TCP connection to the server, after the identification
// exchange and the server's KEXINIT.
type conn struct {
	nc       *collect.Conn
	t        *transport
	id       ident
	serverKI *kexInit
	rawKI    []byte
}

// afterIdentError is a failure after the server identified itself as SSH.
type afterIdentError struct {
	ident string
	err   error
}

func (e *afterIdentError) Error() string {
	return fmt.Sprintf("after identifying as %q: %v", e.ident, e.err)
}
func (e *afterIdentError) Unwrap() error { return e.err }

// dropped reports a connection the server dropped: closed without a byte,
// or closed (reset) after its identification, before its KEXINIT came.
// Such a failure is worth one retry.
func dropped(err error) bool {
	var ai *afterIdentError
	return errors.Is(err, collect.ErrDropsConnections) || (errors.As(err, &ai) && hungUp(ai.err))
}

// start runs the identification exchange and reads the server's KEXINIT on
// an open connection, within the connection's deadline.
//
// With watch > 0 (an endpoint of unknown scheme) it first waits that long
// for the server's first move without saying anything: an SSH server
// greets at once, a TLS or HTTP server waits for its client, and a server
// that drops connections hangs up (errHungUp). Then, as RFC 4253 4.2 lets
// both sides send their identification at once, rampart's goes out: a TLS
// or HTTP server answers it with an alert, a 400 or a close straight away
// (ErrNotSSH), so an endpoint of unknown scheme is known not to be SSH
// without waiting out the sniff timeout.
func start(ctx context.Context, nc *collect.Conn, watch time.Duration) (*conn, error) {
	waited := false
	if watch > 0 {
		move, err := nc.WatchFirstMove(watch)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, err
		case move == collect.HangsUp:
			return nil, fmt.Errorf("the server closed the connection without sending a byte, before rampart said anything: %w", collect.ErrDropsConnections)
		}
		waited = move == collect.Waits
	}
	if _, err := nc.Write([]byte(clientIdent + "\r\n")); err != nil {
		if nc.BytesRead() == 0 && hungUp(err) && !waited {
			return nil, fmt.Errorf("the server closed the connection without sending a byte (%v): %w", err, collect.ErrDropsConnections)
		}
		return nil, fmt.Errorf("sending identification: %w", err)
	}
	id, err := readIdent(nc.Reader())
	if err != nil {
		switch {
		case !hungUp(err) || ctx.Err() != nil:
		case nc.BytesRead() == 0 && waited:
			return nil, fmt.Errorf("%w: the server waited for its client, then closed the connection on an SSH identification", ErrNotSSH)
		case nc.BytesRead() == 0:
			return nil, fmt.Errorf("the server closed the connection without sending a byte: %w", collect.ErrDropsConnections)
		case len(id.PreLines) > 0 && !waited:
			// RFC 4253 lets a server send lines before its identification;
			// OpenSSH past MaxStartups says "Exceeded MaxStartups" and closes.
			return nil, fmt.Errorf("the server said %q and closed the connection before identifying itself: %w", clipText(strings.Join(id.PreLines, " / ")), collect.ErrDropsConnections)
		default:
			return nil, fmt.Errorf("%w: %d bytes without an identification string, then the server closed the connection", ErrNotSSH, nc.BytesRead())
		}
		return nil, err
	}
	t := newTransport(nc, nc.Reader(), nc.Rand())
	p, err := t.expect(msgKexInit, "the server's KEXINIT")
	if err != nil {
		return nil, &afterIdentError{ident: id.Line, err: err}
	}
	ki, err := parseKexInit(p)
	if err != nil {
		return nil, &afterIdentError{ident: id.Line, err: err}
	}
	return &conn{nc: nc, t: t, id: id, serverKI: ki, rawKI: p}, nil
}

func (c *conn) close() {
	// A polite goodbye: SSH_DISCONNECT_BY_APPLICATION.
	b := appendU32([]byte{msgDisconnect}, 11)
	b = appendString(b, []byte("rampart probe done"))
	b = appendString(b, nil)
	c.nc.SetWriteTimeout(time.Second)
	_ = c.t.writePacket(b)
	c.nc.Close()
}

// exchange is the outcome of a key exchange on one connection.
type exchange struct {
	kex     string
	res     *kexResult
	session bool // NEWKEYS done, packets are protected
}

// keyExchange runs a key exchange asking for host key algorithm hostAlg.
// With wantSession it prefers methods and ciphers rampart can complete
// and, when it can, takes the connection through NEWKEYS.
func (c *conn) keyExchange(ctx context.Context, hostAlg string, wantSession bool) (*exchange, error) {
	defer c.nc.Bind(ctx)()
	s := c.serverKI
	kexes := filter(kexPreference, s.Kex)
	if len(kexes) == 0 {
		return nil, fmt.Errorf("no key exchange method in common (server offers %s)", strings.Join(s.Kex, ","))
	}
	ci := &kexInit{Kex: kexes, HostKey: []string{hostAlg}, LangCS: []string{}, LangSC: []string{}}
	if _, err := io.ReadFull(c.t.rand, ci.Cookie[:]); err != nil {
		return nil, err
	}
	// Ciphers and MACs: those rampart implements when a session is wanted
	// and possible, else the server's own lists (sure to agree).
	ci.CiphersCS, ci.CiphersSC = pick(cipherPreference, s.CiphersCS, wantSession), pick(cipherPreference, s.CiphersSC, wantSession)
	ci.MACsCS, ci.MACsSC = pick(macPreference, s.MACsCS, wantSession), pick(macPreference, s.MACsSC, wantSession)
	ci.CompCS, ci.CompSC = pick([]string{"none"}, s.CompCS, true), pick([]string{"none"}, s.CompSC, true)
	raw := ci.marshal()
	if err := c.t.writePacket(raw); err != nil {
		return nil, fmt.Errorf("sending KEXINIT: %w", err)
	}
	m := kexMethods[kexes[0]]
	if s.FirstFollows && (s.Kex[0] != kexes[0] || s.HostKey[0] != hostAlg) {
		// The server guessed wrong and sent a key exchange packet already:
		// RFC 4253 7.1 says to ignore it.
		if _, err := c.t.next(); err != nil {
			return nil, fmt.Errorf("discarding the server's guessed key exchange packet: %w", err)
		}
	}
	hd := handshakeData{vc: []byte(clientIdent), vs: []byte(c.id.Line), ic: raw, is: c.rawKI}
	res, err := runKex(c.t, m, hd)
	if err != nil {
		return &exchange{kex: m.name, res: res}, fmt.Errorf("key exchange %s: %w", m.name, err)
	}
	ex := &exchange{kex: m.name, res: res}
	if !wantSession {
		return ex, nil
	}
	if !m.full || res.k == nil {
		return ex, fmt.Errorf("rampart cannot complete key exchange %s (server offers %s)", m.name, strings.Join(s.Kex, ","))
	}
	cs, sc := negotiate(ci.CiphersCS, s.CiphersCS), negotiate(ci.CiphersSC, s.CiphersSC)
	if _, ok := cipherSpecs[cs]; !ok {
		return ex, fmt.Errorf("no cipher in common that rampart implements (server offers %s)", strings.Join(s.CiphersCS, ","))
	}
	if _, ok := cipherSpecs[sc]; !ok {
		return ex, fmt.Errorf("no cipher in common that rampart implements (server offers %s)", strings.Join(s.CiphersSC, ","))
	}
	mcs, msc := negotiate(ci.MACsCS, s.MACsCS), negotiate(ci.MACsSC, s.MACsSC)
	if !cipherSpecs[cs].authenticated() {
		if _, ok := macSpecs[mcs]; !ok {
			return ex, fmt.Errorf("no MAC in common that rampart implements (server offers %s)", strings.Join(s.MACsCS, ","))
		}
	}
	if !cipherSpecs[sc].authenticated() {
		if _, ok := macSpecs[msc]; !ok {
			return ex, fmt.Errorf("no MAC in common that rampart implements (server offers %s)", strings.Join(s.MACsSC, ","))
		}
	}
	if negotiate(ci.CompCS, s.CompCS) != "none" || negotiate(ci.CompSC, s.CompSC) != "none" {
		return ex, errors.New("the server requires compression")
	}
	if err := c.t.writePacket([]byte{msgNewKeys}); err != nil {
		return ex, err
	}
	if _, err := c.t.expect(msgNewKeys, "NEWKEYS"); err != nil {
		return ex, err
	}
	h, k, sid := m.hash, res.k, res.h
	key := func(x byte, n int) []byte { return deriveKey(h, k, res.h, x, sid, n) }
	csSpec, scSpec := cipherSpecs[cs], cipherSpecs[sc]
	if err := c.t.out.setup(cs, mcs, key('A', csSpec.ivLen), key('C', csSpec.keyLen), key('E', macSpecs[mcs].keyLen), false); err != nil {
		return ex, err
	}
	if err := c.t.in.setup(sc, msc, key('B', scSpec.ivLen), key('D', scSpec.keyLen), key('F', macSpecs[msc].keyLen), true); err != nil {
		return ex, err
	}
	ex.session = true
	return ex, nil
}

// authResult is what the "none" request taught.
type authResult struct {
	methods []string
	banner  string
}

// authNone asks for the ssh-userauth service and sends one
// USERAUTH_REQUEST with method "none": the server answers with the methods
// that can continue, and may first send its banner. No credential is ever
// sent.
func (c *conn) authNone(ctx context.Context, user string) (*authResult, error) {
	defer c.nc.Bind(ctx)()
	if err := c.t.writePacket(appendString([]byte{msgServiceRequest}, []byte("ssh-userauth"))); err != nil {
		return nil, err
	}
	res := &authResult{}
	for i := 0; ; i++ {
		p, err := c.t.next()
		if err != nil {
			return nil, fmt.Errorf("waiting for SERVICE_ACCEPT: %w", err)
		}
		if p[0] == msgUserAuthBanner {
			res.addBanner(p)
			continue
		}
		if p[0] != msgServiceAccept {
			return nil, protocolErr("waiting for SERVICE_ACCEPT: got message %d", p[0])
		}
		break
	}
	req := appendString([]byte{msgUserAuthReq}, []byte(user))
	req = appendString(req, []byte("ssh-connection"))
	req = appendString(req, []byte("none"))
	if err := c.t.writePacket(req); err != nil {
		return nil, err
	}
	for i := 0; i < 32; i++ {
		p, err := c.t.next()
		if err != nil {
			return res, fmt.Errorf("waiting for the answer to the none request: %w", err)
		}
		switch p[0] {
		case msgUserAuthBanner:
			res.addBanner(p)
		case msgUserAuthFail:
			r := reader{b: p[1:]}
			res.methods = r.nameList()
			r.boolean()
			if r.err != nil {
				return res, fmt.Errorf("malformed USERAUTH_FAILURE: %w", r.err)
			}
			return res, nil
		case msgUserAuthOK:
			// The server lets anyone in without authenticating.
			res.methods = []string{"none"}
			return res, nil
		default:
			return res, protocolErr("unexpected message %d during authentication", p[0])
		}
	}
	return res, protocolErr("no answer to the none request after 32 packets")
}

func (a *authResult) addBanner(p []byte) {
	r := reader{b: p[1:]}
	msg := r.str()
	if r.err != nil || len(a.banner) >= maxBanner {
		return
	}
	s := printable(string(msg))
	if len(a.banner)+len(s) > maxBanner {
		s = s[:maxBanner-len(a.banner)]
	}
	a.banner += s
}

// filter returns the names of pref that offered holds, in pref's order.
func filter(pref, offered []string) []string {
	var out []string
	for _, p := range pref {
		if slices.Contains(offered, p) {
			out = append(out, p)
		}
	}
	return out
}

// pick returns rampart's preference filtered by what the server offers
// when want is set and that leaves something; else the server's list.
func pick(pref, offered []string, want bool) []string {
	if want {
		if f := filter(pref, offered); len(f) > 0 {
			return f
		}
	}
	return offered
}
