package httpprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

var (
	// errNotHTTP marks a service that answered, but not in HTTP.
	errNotHTTP = errors.New("not an HTTP service")
	// errUnresponsive is the error of requests not sent because the
	// server timed out too often already.
	errUnresponsive = errors.New("not sent: the server timed out on earlier requests")
)

// prober probes one endpoint over one scheme. It lives for one Collect.
type prober struct {
	opts   Options
	env    *collect.Env
	t      target.Target
	scheme string
	base   *url.URL
	vhost  string // declared public host name, sent as Host and SNI
	// trs are the probe's connection pools, one per worker of the
	// catalogue (see fetchAll), each of one connection per host: a
	// request waits for its worker's connection rather than opening
	// another (net/http puts a connection back in its pool a moment after
	// its body was read, and a request in between would dial). trs[0]
	// serves every request outside the catalogue. Guarded by trMu.
	trMu sync.Mutex
	trs  []*http.Transport
	// net dials every connection; each request holds a slot of host's
	// budget (the host as the target names it) while it runs.
	net  *collect.Net
	host string
	ua   string

	// sessions lets the probe's connections resume its first TLS
	// session: one full handshake per endpoint instead of one per
	// connection (a server that closes after each answer, as openssl
	// s_server -www does, gets dozens).
	sessions tls.ClientSessionCache

	tlsOK      atomic.Bool  // a TLS handshake completed
	useTLSWire atomic.Bool  // Go's TLS client shares nothing with the server: use tlswire's
	tlsAlert   atomic.Bool  // a TLS handshake ended in the server's alert
	spokeHTTP  atomic.Bool  // some answer was HTTP
	timeouts   atomic.Int32 // requests that timed out
}

// silent reports that the prober opened connections and the server sent
// not a byte on any of them.
func (p *prober) silent() bool { return p.net.Dials() > 0 && p.net.BytesRead() == 0 }

func (c *Collector) newProber(t target.Target, scheme string, env *collect.Env) *prober {
	p := &prober{
		opts: c.opts, env: env, t: t, scheme: scheme, base: baseURL(t, scheme),
		vhost: t.Decl.Hostname, ua: userAgent(c.opts.Version),
		// One budget per host for every collector of the scan.
		net: env.Net(c.opts.PerHost), host: t.Host,
		sessions: tls.NewLRUClientSessionCache(4),
	}
	return p
}

// transport is worker i's connection pool (0: the one of every request
// outside the catalogue), made on first use.
func (p *prober) transport(i int) *http.Transport {
	p.trMu.Lock()
	defer p.trMu.Unlock()
	for len(p.trs) <= i {
		p.trs = append(p.trs, &http.Transport{
			Proxy:                  nil, // never an environment proxy: the vantage point is this host
			DialContext:            p.dialPlain,
			DialTLSContext:         p.dialTLS,
			MaxResponseHeaderBytes: p.opts.MaxHeaderBytes,
			DisableCompression:     true, // the body cap then bounds what the server sends
			MaxIdleConnsPerHost:    1,
			MaxConnsPerHost:        1,
			IdleConnTimeout:        30 * time.Second,
			ResponseHeaderTimeout:  p.opts.RequestTimeout,
			TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
		})
	}
	return p.trs[i]
}

func (p *prober) close() {
	p.trMu.Lock()
	defer p.trMu.Unlock()
	for _, tr := range p.trs {
		tr.CloseIdleConnections()
	}
}

// dialPlain opens a connection for the transport's pool: the request
// that asked for it holds the host's slot (see fetch), and net/http sets
// its deadlines and bounds what it reads.
func (p *prober) dialPlain(ctx context.Context, _, addr string) (net.Conn, error) {
	return p.dial(ctx, addr)
}

func (p *prober) dial(ctx context.Context, addr string) (*collect.Conn, error) {
	return p.net.Dial(ctx, collect.DialSpec{Host: p.host, Addr: addr, ConnectTimeout: p.opts.ConnectTimeout,
		MaxRead: collect.NoReadLimit, Pooled: true, Label: "http " + addr})
}

// tlsError marks a failure of the TLS layer (as opposed to HTTP).
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// dialTLS connects and handshakes with certificate checks off (judging the
// certificate is the TLS prober's job) but SNI set, accepting every
// protocol version and suite Go has, so old servers can be looked at too.
// When Go's client shares no version or suite with the server (a DHE-only
// server), it retries with tlswire's client, and keeps using that one for
// the rest of the probe.
func (p *prober) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	serverName := ""
	switch {
	case p.vhost != "":
		serverName = p.vhost
	case net.ParseIP(host) == nil:
		serverName = host
	}
	if p.useTLSWire.Load() {
		c, err := p.dialTLSWire(ctx, network, addr, serverName)
		if err != nil {
			return nil, &tlsError{err}
		}
		return c, nil
	}
	raw, err := p.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	cfg := collect.InspectingTLS(serverName)
	cfg.NextProtos = []string{"http/1.1"}
	cfg.ClientSessionCache = p.sessions
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.opts.ConnectTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "remote error" {
			// The peer speaks TLS (it sent an alert); it just refused this client.
			p.tlsAlert.Store(true)
		}
		if !noCommonParameters(err) {
			return nil, &tlsError{err}
		}
		c, werr := p.dialTLSWire(ctx, network, addr, serverName)
		if werr != nil {
			return nil, &tlsError{fmt.Errorf("%w (no protocol version or cipher suite in common with Go's client); %w", err, werr)}
		}
		p.env.Log().Debug("http probe: Go's TLS client refused; using tlswire's", "target", p.t.Name, "err", err)
		p.useTLSWire.Store(true)
		p.tlsOK.Store(true)
		return c, nil
	}
	p.tlsOK.Store(true)
	return tc, nil
}

// request is one thing to ask the server.
type request struct {
	method      string
	path        string // path and query, from the host's root
	body        string
	contentType string
	header      http.Header
	follow      bool // follow same-host redirects
	// pageScan: examine every body for product and version banners (the
	// default and error pages); otherwise only error statuses are.
	pageScan bool
}

// hop is one response of a redirect chain.
type hop struct {
	URL    string
	Status int
	Header http.Header
	HTTPS  bool
}

// answer is what one request (with its redirects) got.
type answer struct {
	path     string
	url      string
	hops     []hop
	body     []byte // the last hop's body, capped; dropped after digest
	err      error
	location string // an off-host redirect that was not followed
	latency  time.Duration

	// filled by digest
	disclosures []facts.Disclosure
	sig         signature
	carbonLogin bool   // the body holds the Carbon console login form
	productPage string // the product page the body is (see ProductPage)
	jsonStatus  string // "status" of a JSON body
	cookies     []facts.Cookie
}

func (a *answer) final() *hop {
	if len(a.hops) == 0 {
		return nil
	}
	return &a.hops[len(a.hops)-1]
}

func (a *answer) status() int {
	if h := a.final(); h != nil {
		return h.Status
	}
	return 0
}

func (a *answer) errText() string {
	if a.err == nil {
		return ""
	}
	return a.err.Error()
}

// errCause classifies a.err (see facts.Status.Cause).
func (a *answer) errCause() string { return collect.Cause(a.err) }

// resolve turns a catalogue path into a URL on the target.
func (p *prober) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("bad path %q: %w", path, err)
	}
	return p.base.ResolveReference(ref), nil
}

// sameHost reports whether u is on the probed host (or its declared name).
func (p *prober) sameHost(u *url.URL) bool {
	h := u.Hostname()
	return strings.EqualFold(h, p.t.Host) || (p.vhost != "" && strings.EqualFold(h, p.vhost))
}

// dialURL rewrites a URL naming the declared host name to the address
// probed, returning the Host header to send.
func (p *prober) dialURL(u *url.URL) (*url.URL, string) {
	d := *u
	hostHeader := ""
	if p.vhost != "" {
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		d.Host = net.JoinHostPort(p.t.Host, port)
		hostHeader = p.vhost
		if (u.Scheme == "https" && port != "443") || (u.Scheme == "http" && port != "80") {
			hostHeader = net.JoinHostPort(p.vhost, port)
		}
	}
	return &d, hostHeader
}

func (p *prober) unresponsive() bool {
	return p.timeouts.Load() >= int32(p.opts.MaxTimeouts)
}

func (p *prober) noteErr(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // the whole scan is out of time, not this server's fault
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		p.timeouts.Add(1)
	}
	if strings.Contains(err.Error(), "server response headers exceeded") {
		p.spokeHTTP.Store(true)
	}
}

// fetch sends one request and follows its same-host redirects, reading
// every body up to the cap and examining it for disclosures.
func (p *prober) fetch(ctx context.Context, r request) *answer {
	return p.fetchOn(ctx, p.transport(0), r)
}

// fetchOn is fetch through the connection pool tr.
func (p *prober) fetchOn(ctx context.Context, tr *http.Transport, r request) *answer {
	a := &answer{path: r.path}
	u, err := p.resolve(r.path)
	if err != nil {
		a.err = err
		return a
	}
	a.url = u.String()
	release, err := p.net.Hold(ctx, p.host)
	if err != nil {
		a.err = err
		return a
	}
	defer release()
	if p.unresponsive() {
		a.err = errUnresponsive
		return a
	}
	start := p.env.Clock()
	defer func() { a.latency = p.env.Clock().Sub(start) }()

	jar, _ := cookiejar.New(nil) // per chain, so cookie-setting redirects work as in a browser
	client := &http.Client{
		Transport:     tr,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	method, body := r.method, r.body
	for i := 0; ; i++ {
		h, data, loc, err := p.do(ctx, client, method, u, body, r)
		if h != nil {
			p.spokeHTTP.Store(true)
			a.hops = append(a.hops, *h)
			p.scanBody(a, h, data, r.pageScan)
		}
		if err != nil {
			a.err = err
			return a
		}
		if !r.follow || !isRedirect(h.Status) || loc == "" {
			a.body = data
			return a
		}
		next, err := u.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			a.location = loc
			a.body = data
			return a
		}
		if !p.sameHost(next) {
			a.location = next.String()
			a.body = data
			return a
		}
		if i >= p.opts.MaxRedirects {
			a.err = fmt.Errorf("stopped after %d redirects (the last to %s)", p.opts.MaxRedirects, next.Redacted())
			return a
		}
		u = next
		if h.Status == http.StatusSeeOther || method != http.MethodGet && method != http.MethodHead && h.Status != http.StatusTemporaryRedirect && h.Status != http.StatusPermanentRedirect {
			method, body = http.MethodGet, ""
		}
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// do sends one request and reads its answer within RequestTimeout.
func (p *prober) do(ctx context.Context, client *http.Client, method string, u *url.URL, body string, r request) (*hop, []byte, string, error) {
	rctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	du, hostHeader := p.dialURL(u)
	req, err := http.NewRequestWithContext(rctx, method, du.String(), rd)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", p.ua)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "*/*")
	}
	if body != "" && r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if hostHeader != "" {
		req.Host = hostHeader
	}
	resp, err := client.Do(req)
	if err != nil {
		p.noteErr(ctx, err)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, "", fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	h := &hop{URL: u.String(), Status: resp.StatusCode, Header: keptHeaders(resp.Header), HTTPS: du.Scheme == "https"}
	data, err := io.ReadAll(io.LimitReader(resp.Body, p.opts.MaxBody))
	if err != nil {
		p.noteErr(ctx, err)
		return h, data, "", fmt.Errorf("%s %s: reading the body (%d bytes in): %w", method, u.Redacted(), len(data), err)
	}
	return h, data, resp.Header.Get("Location"), nil
}

// usedHeaders are the response headers any check reads; the rest are
// dropped as soon as a response arrives, so answers held until the facts
// are built stay small. They are written in canonical form (as net/http
// keys a response's headers: X-Aspnet-Version for X-AspNet-Version), so
// keptHeaders looks them up without canonicalizing each again
// (TestUsedHeadersCanonical).
var usedHeaders = []string{
	"Server", "X-Powered-By", "X-Aspnet-Version", "X-Aspnetmvc-Version", "X-Generator", "Via",
	"Strict-Transport-Security", "Cache-Control", "Pragma", "Expires", "Set-Cookie", "Location",
	"Content-Type", "Www-Authenticate",
}

func keptHeaders(h http.Header) http.Header {
	out := make(http.Header, len(usedHeaders))
	for _, k := range usedHeaders {
		if v := h[k]; len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

// isNotHTTP reports whether err says the peer answered, but not in HTTP.
func isNotHTTP(err error) bool {
	if err == nil {
		return false
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "malformed HTTP") || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(s, "server closed") || strings.Contains(s, "connection reset")
}

// ms is a duration in whole milliseconds.
func ms(d time.Duration) int64 { return d.Milliseconds() }

// portOf returns the port of a URL, defaulted from its scheme.
func portOf(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}
