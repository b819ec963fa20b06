// Package httpprobe is the "http" collector: it looks at a live HTTP(S)
// endpoint the way a client at the scan's vantage point sees it. It reads
// the banners (Server, X-Powered-By, error and default pages), the HSTS
// and cache headers, the session cookies, which of the WSO2 products' known
// paths answer (admin contexts, consoles, APIs, health endpoints), and,
// only when the scan is intrusive, whether the default admin/admin login
// is accepted. It never judges; the rules do.
//
// Requests are GET (and one opt-in login POST), follow redirects only on
// the target's own host and only a few times, read at most a bounded
// number of bytes of every header block and body, and time out per
// request; a host that keeps timing out stops being asked.
package httpprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// Version is rampart's version, named in the User-Agent.
	Version string
	// ConnectTimeout bounds each TCP connect and TLS handshake (default 5s).
	ConnectTimeout time.Duration
	// RequestTimeout bounds one request from sending it to the end of its
	// body, per redirect hop (default 10s).
	RequestTimeout time.Duration
	// MaxBody is how many bytes of a body are read (default 1 MiB); the
	// rest is discarded unread.
	MaxBody int64
	// MaxHeaderBytes bounds one response's header block (default 128 KiB).
	MaxHeaderBytes int64
	// MaxRedirects is how many same-host redirects are followed (default 5).
	MaxRedirects int
	// PerHost is the connection limit used when Env.PerHost is 0 (default 4).
	PerHost int
	// MaxTimeouts: after this many requests to one target time out, the
	// remaining ones are not sent (default 3).
	MaxTimeouts int
	// RetryBackoff is the wait before the probe is tried again when the
	// server closed every connection without a byte (default
	// collect.DefaultRetryBackoff).
	RetryBackoff time.Duration
	// SlowRequest is how long a request of the catalogue may be in flight
	// before another connection is opened beside it (default 100ms; see
	// fetchAll).
	SlowRequest time.Duration
	// FirstMoveWait is how long such a server is then watched while
	// rampart says nothing, to tell one that drops connections from one
	// that refused HTTP (default collect.DefaultFirstMoveWait).
	FirstMoveWait time.Duration
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 128 << 10
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.PerHost <= 0 {
		o.PerHost = 4
	}
	if o.MaxTimeouts <= 0 {
		o.MaxTimeouts = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = collect.DefaultRetryBackoff
	}
	if o.SlowRequest <= 0 {
		o.SlowRequest = defaultSlowRequest
	}
	if o.FirstMoveWait <= 0 {
		o.FirstMoveWait = collect.DefaultFirstMoveWait
	}
	return o
}

// Collector is the HTTP prober. It is safe for concurrent use; the
// per-host connection limit is shared by every scan it runs.
type Collector struct {
	opts Options
}

// New returns an HTTP collector.
func New(opts Options) *Collector {
	return &Collector{opts: opts.withDefaults()}
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "http" }

// Provides implements collect.Collector.
func (c *Collector) Provides() []string { return []string{facts.NSHTTP} }

// Needs implements collect.Collector: the network.
func (*Collector) Needs() collect.Needs { return collect.Needs{Requires: collect.Network} }

// Applies implements collect.Collector: endpoints whose scheme is https,
// http or not yet known.
func (c *Collector) Applies(t target.Target) bool {
	if t.Kind != target.Endpoint || t.Address() == "" {
		return false
	}
	switch t.Scheme {
	case "https", "http", "":
		return true
	}
	return false
}

// Collect implements collect.Collector. A target of unknown scheme is
// tried over HTTPS, then plain HTTP; one that speaks neither gets no facts
// and no error (not applicable).
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	if !c.Applies(t) {
		return nil, nil
	}
	if env == nil {
		env = &collect.Env{}
	}
	if env.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, env.Timeout)
		defer cancel()
	}
	f, silent, err := c.collectOnce(ctx, t, env)
	if !silent {
		return f, err
	}
	// Every connection was closed without a byte: a server that drops
	// connections (under load, at a limit, filtered), or, on an endpoint
	// of unknown scheme, one that refused both HTTPS and HTTP that way.
	// Once more after the backoff, then watch it while saying nothing.
	if berr := collect.Backoff(ctx, c.opts.RetryBackoff); berr != nil {
		return f, err
	}
	if f, silent, err = c.collectOnce(ctx, t, env); !silent {
		return f, err
	}
	if move, werr := c.firstMove(ctx, t, env); werr == nil && move == collect.HangsUp {
		return nil, fmt.Errorf("http probe %s: the server closed every connection without sending a byte, also on a retry %s later and when rampart said nothing: %w",
			t.Address(), c.opts.RetryBackoff, collect.ErrDropsConnections)
	}
	return f, err
}

// firstMove watches what the server does on a connection while rampart
// says nothing (see collect.WatchFirstMove).
func (c *Collector) firstMove(ctx context.Context, t target.Target, env *collect.Env) (collect.FirstMove, error) {
	conn, err := env.Net(c.opts.PerHost).Dial(ctx, collect.DialSpec{Host: t.Host, Addr: baseURL(t, "http").Host,
		ConnectTimeout: c.opts.ConnectTimeout, Label: "http first move"})
	if err != nil {
		return collect.Waits, err
	}
	defer conn.Close()
	return conn.WatchFirstMove(c.opts.FirstMoveWait)
}

// collectOnce tries the target's scheme, or HTTPS then HTTP. silent
// reports that every connection it opened was closed without a byte.
func (c *Collector) collectOnce(ctx context.Context, t target.Target, env *collect.Env) (f *facts.Facts, silent bool, err error) {
	schemes := []string{t.Scheme}
	if t.Scheme == "" {
		schemes = []string{"https", "http"}
	}
	var lastErr error
	silent = true
	for _, scheme := range schemes {
		p := c.newProber(t, scheme, env)
		hf, err := p.run(ctx)
		p.close()
		if err == nil {
			return &facts.Facts{HTTP: hf}, false, nil
		}
		lastErr = err
		silent = silent && p.silent()
		if t.Scheme != "" {
			return nil, silent, err
		}
		if p.tlsAlert.Load() && !p.tlsOK.Load() {
			// A TLS server that refused every handshake: HTTPS that cannot be
			// looked at, not a plain-HTTP port.
			return nil, false, err
		}
		if p.tlsOK.Load() || p.spokeHTTP.Load() {
			// TLS worked (or an HTTP answer came) but HTTP failed: this is
			// the right scheme and a broken or hostile server, not a
			// reason to try plain HTTP.
			if errors.Is(err, errNotHTTP) {
				env.Log().Debug("http probe: TLS service that does not speak HTTP", "target", t.Name, "err", err)
				return nil, false, nil
			}
			return nil, false, err
		}
		if ctx.Err() != nil {
			return nil, false, nil
		}
	}
	env.Log().Debug("http probe: not an HTTP service", "target", t.Name, "err", lastErr)
	return nil, silent, nil
}

// baseURL is the target as a URL of the given scheme, with its path.
func baseURL(t target.Target, scheme string) *url.URL {
	p := t.Path
	if p == "" {
		p = "/"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(t.Host, strconv.Itoa(t.Port))}
	if pu, err := url.Parse(p); err == nil {
		u.Path, u.RawPath, u.RawQuery = pu.Path, pu.RawPath, pu.RawQuery
	} else {
		u.Path = p
	}
	return u
}

// userAgent names rampart and its version.
func userAgent(version string) string {
	return fmt.Sprintf("rampart/%s (+https://github.com/rampart-sec/rampart)", version)
}
