// Package sshprobe is the "ssh" collector: it audits a live SSH server
// before authentication. It reads the identification string and the
// server's KEXINIT algorithm lists, learns each host key (type, size,
// fingerprint) from the key exchange reply, and asks which authentication
// methods are offered with the "none" method, keeping any pre-auth banner.
// It never authenticates and never sends a password or key.
//
// The wire code is its own (golang.org/x/crypto/ssh neither exposes the
// KEXINIT lists nor the method list of a "none" failure, and refuses some
// of the legacy algorithms an audit must see), built on the standard
// library's AES, GCM, HMAC and ECDH.
package sshprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/target"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// Timeout bounds each connection from connect to its last answer
	// (default 10s); the context's deadline wins when sooner.
	Timeout time.Duration
	// SniffTimeout bounds the wait for a server's first bytes when the
	// scheme is unknown (default 3s): SSH servers speak first.
	SniffTimeout time.Duration
	// User is the user name sent with the "none" request (default root,
	// as nmap's ssh-auth-methods: the account the guidelines care about).
	User string
	// PerHost bounds concurrent connections to one host when Env.PerHost
	// is 0 and the scan shares no limiter (default 3).
	PerHost int
	// FirstMoveWait is how long the first connection to an endpoint of
	// unknown scheme waits for the server to speak before rampart does
	// (default collect.DefaultFirstMoveWait).
	FirstMoveWait time.Duration
	// RetryBackoff is the wait before the one retry of a connection the
	// server dropped (default collect.DefaultRetryBackoff).
	RetryBackoff time.Duration
}

// Collector is the SSH prober.
type Collector struct{ opts Options }

// New returns an SSH collector.
func New(opts Options) *Collector {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.SniffTimeout <= 0 {
		opts.SniffTimeout = 3 * time.Second
	}
	if opts.User == "" {
		opts.User = "root"
	}
	if opts.PerHost <= 0 {
		opts.PerHost = 3
	}
	if opts.FirstMoveWait <= 0 {
		opts.FirstMoveWait = collect.DefaultFirstMoveWait
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = collect.DefaultRetryBackoff
	}
	return &Collector{opts: opts}
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "ssh" }

// Provides implements collect.Collector.
func (c *Collector) Provides() []string { return []string{facts.NSSSH} }

// Needs implements collect.Collector: the network.
func (*Collector) Needs() collect.Needs { return collect.Needs{Requires: collect.Network} }

// Applies implements collect.Collector: endpoints whose scheme is ssh or
// not yet known (Collect then looks at the server's first bytes).
func (c *Collector) Applies(t target.Target) bool {
	return t.Kind == target.Endpoint && t.Address() != "" && (t.Scheme == "ssh" || t.Scheme == "")
}

// Collect implements collect.Collector. For an endpoint of unknown scheme
// that does not speak SSH first it returns nil, nil.
//
// Every connection takes a slot of the scan's per-host budget (Env.Hosts,
// shared with the TLS, HTTP and port collectors and keyed by the host as
// the target names it, lower-cased) for as long as it is open.
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	addr := t.Address()
	timeout := c.opts.Timeout
	if env != nil && env.Timeout > 0 && env.Timeout < timeout {
		timeout = env.Timeout
	}
	first := timeout
	if t.Scheme == "" && c.opts.SniffTimeout < first {
		first = c.opts.SniffTimeout
	}
	p := &probe{net: env.Net(c.opts.PerHost), host: t.Host, addr: addr, backoff: c.opts.RetryBackoff}
	watch := time.Duration(0)
	if t.Scheme == "" {
		watch = c.opts.FirstMoveWait
	}
	conn, err := p.open(ctx, first, watch, "ssh session")
	if err != nil {
		// Not SSH: the server said something else (or nothing: a timeout
		// before it said a word), or waited for its client
		// and then hung up on an SSH identification, or said nothing at all.
		// A server that drops every connection, or drops one after saying
		// it is SSH, is an error: it may well be SSH.
		if t.Scheme == "" && (errors.Is(err, ErrNotSSH) || netfail.IsTimeout(err)) && !dropped(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("ssh probe %s: %w", addr, err)
	}
	ssh := c.fromKexInit(t, conn)
	c.hostKeysAndAuth(ctx, p, timeout, conn, ssh)
	return &facts.Facts{SSH: ssh}, nil
}

// probe is where one collection connects, and under which budget.
type probe struct {
	net     *collect.Net
	host    string // the budget's key: the host as the target names it
	addr    string
	backoff time.Duration
}

// open connects (under the host's budget) and reads the server's
// identification and KEXINIT, the connect and those each within timeout
// (watching the server's first move first when watch > 0; see start). A
// connection the server dropped is retried once, after the backoff. label
// says what the connection is for. Closing the connection gives its slot
// back.
func (p *probe) open(ctx context.Context, timeout, watch time.Duration, label string) (*conn, error) {
	c, err := p.openOnce(ctx, timeout, watch, label)
	if err == nil || !dropped(err) {
		return c, err
	}
	if berr := collect.Backoff(ctx, p.backoff); berr != nil {
		return nil, err
	}
	c, err2 := p.openOnce(ctx, timeout, watch, label)
	if err2 != nil && dropped(err2) {
		return nil, fmt.Errorf("%w; the same again on a retry %s later", err2, p.backoff)
	}
	return c, err2
}

func (p *probe) openOnce(ctx context.Context, timeout, watch time.Duration, label string) (*conn, error) {
	nc, err := p.net.Dial(ctx, collect.DialSpec{Host: p.host, Addr: p.addr, Label: label, ConnectTimeout: timeout, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	c, err := start(ctx, nc, watch)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// hungUp reports whether the server closed the connection on our
// identification without sending one of its own: what TLS servers do.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func (c *Collector) fromKexInit(t target.Target, conn *conn) *facts.SSH {
	ki := conn.serverKI
	return &facts.SSH{
		Address:     t.Address(),
		Port:        t.Port,
		Banner:      conn.id.Line,
		Software:    conn.id.Software,
		Kex:         ki.Kex,
		HostKeyAlgs: ki.HostKey,
		HostKeys:    []facts.HostKey{},
		Ciphers:     union(ki.CiphersSC, ki.CiphersCS),
		MACs:        union(ki.MACsSC, ki.MACsCS),
		Compression: union(ki.CompSC, ki.CompCS),
		AuthMethods: []string{},
	}
}

// union is a's names followed by b's names not in a (the two directions
// of a list are nearly always equal).
func union(a, b []string) []string {
	out := append([]string{}, a...)
	for _, n := range b {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// hostKeysAndAuth learns one key per key type (rsa-sha2-512, rsa-sha2-256
// and ssh-rsa share one RSA key) and, on the first connection, the
// authentication methods and banner.
func (c *Collector) hostKeysAndAuth(ctx context.Context, p *probe, timeout time.Duration, first *conn, ssh *facts.SSH) {
	var types []string
	rep := map[string]string{} // key type -> first algorithm offered of that type
	for _, alg := range ssh.HostKeyAlgs {
		kt := keyType(alg)
		if _, ok := rep[kt]; !ok {
			rep[kt] = alg
			types = append(types, kt)
		}
	}
	blobs := make([]keyFetch, len(types))

	// The first connection does the first key type and the "none" request.
	func() {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		defer first.close()
		ex, err := first.keyExchange(cctx, rep[types[0]], true)
		if ex != nil && ex.res != nil && ex.res.hostKey != nil {
			blobs[0] = keyFetch{blob: ex.res.hostKey}
		} else if err != nil {
			blobs[0] = keyFetch{err: err}
		}
		if err != nil || !ex.session {
			if err == nil {
				err = errors.New("no session")
			}
			ssh.AuthError, ssh.AuthCause = err.Error(), collect.Cause(err)
			return
		}
		ar, err := first.authNone(cctx, c.opts.User)
		if ar != nil {
			ssh.PreAuthBanner = ar.banner
			if ar.methods != nil {
				ssh.AuthMethods = ar.methods
			}
		}
		if err != nil {
			ssh.AuthError, ssh.AuthCause = err.Error(), collect.Cause(err)
		}
	}()

	// The other key types, each on a connection of its own, as many at
	// once as the host's budget allows.
	var wg collect.Group
	for i := 1; i < len(types); i++ {
		wg.Go(func() {
			blobs[i] = fetchKey(ctx, p, timeout, rep[types[i]])
		})
	}
	wg.Wait()

	var errs []string
	for _, alg := range ssh.HostKeyAlgs {
		i := slices.Index(types, keyType(alg))
		f := blobs[i]
		if f.err != nil || f.blob == nil {
			msg := "no key"
			if f.err != nil {
				msg = f.err.Error()
				if ssh.HostKeysCause == "" {
					ssh.HostKeysCause = collect.Cause(f.err)
				}
			}
			if !slices.Contains(errs, rep[types[i]]+": "+msg) {
				errs = append(errs, rep[types[i]]+": "+msg)
			}
			continue
		}
		hk, err := hostKeyFacts(alg, f.blob)
		if err != nil {
			errs = append(errs, alg+": "+err.Error())
		}
		ssh.HostKeys = append(ssh.HostKeys, hk)
	}
	if len(errs) > 0 {
		ssh.HostKeysError = joinErrs(errs)
	}
}

type keyFetch struct {
	blob []byte
	err  error
}

// fetchKey opens a connection and runs a key exchange for alg only as far
// as the server's reply, which carries the host key.
func fetchKey(ctx context.Context, p *probe, timeout time.Duration, alg string) keyFetch {
	conn, err := p.open(ctx, timeout, 0, "ssh host key "+alg)
	if err != nil {
		return keyFetch{err: err}
	}
	defer conn.close()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ex, err := conn.keyExchange(cctx, alg, false)
	if ex != nil && ex.res != nil && ex.res.hostKey != nil {
		return keyFetch{blob: ex.res.hostKey}
	}
	if err == nil {
		err = errors.New("no host key in the reply")
	}
	return keyFetch{err: err}
}

func joinErrs(errs []string) string {
	s := ""
	for i, e := range errs {
		if i > 0 {
			s += "; "
		}
		s += e
	}
	return s
}
