// Package tlsprobe is the "tls" collector: it speaks SSL and TLS at the
// record level (internal/tlswire) to learn which protocol versions, cipher
// suites and named groups a live endpoint accepts, its Diffie-Hellman group
// size, renegotiation behaviour, compression and certificate chain. Suites
// are enumerated by elimination (offer many, drop the one the server picks,
// repeat) in parallel chains under a per-host connection limit.
package tlsprobe

import (
	"context"
	"errors"
	"fmt"
	"github.com/rampart-sec/rampart/internal/certinfo"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// ConnectTimeout bounds each TCP connect (default 5s).
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds each connection from connect to the server's
	// answer (default 5s).
	HandshakeTimeout time.Duration
	// PerHost is the connection limit used when Env.PerHost is 0 (default 5,
	// as sslyze).
	PerHost int
	// RetryBackoff is the wait before a hello the server answered by
	// closing the connection without a byte is sent again (default 250ms).
	RetryBackoff time.Duration
	// FirstMoveWait is how long a server that closed on every hello is
	// watched when rampart says nothing, to tell a server that drops
	// connections from one that refused TLS (default
	// collect.DefaultFirstMoveWait).
	FirstMoveWait time.Duration
}

// Collector is the TLS prober. It is safe for concurrent use; the per-host
// connection limit is shared by every scan it runs.
type Collector struct {
	opts  Options
	reg   *tlswire.Registry
	tls   []uint16
	tls13 []uint16
	rank  map[uint16]int
	roots func() *systemRoots // read on first use
}

// New returns a TLS collector.
func New(opts Options) *Collector {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 5 * time.Second
	}
	if opts.PerHost <= 0 {
		opts.PerHost = 5
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 250 * time.Millisecond
	}
	if opts.FirstMoveWait <= 0 {
		opts.FirstMoveWait = collect.DefaultFirstMoveWait
	}
	c := &Collector{opts: opts, reg: tlswire.NewRegistry(), rank: map[uint16]int{}, roots: sync.OnceValue(loadSystemRoots)}
	c.tls = orderedCandidates(c.reg.TLS())
	c.tls13 = orderedCandidates(c.reg.TLS13())
	for i, id := range c.tls {
		c.rank[id] = i
	}
	for i, id := range c.tls13 {
		c.rank[id] = i
	}
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "tls" }

// Provides implements collect.Collector.
func (c *Collector) Provides() []string { return []string{facts.NSTLS} }

// Needs implements collect.Collector: the network.
func (*Collector) Needs() collect.Needs { return collect.Needs{Requires: collect.Network} }

// Applies implements collect.Collector: endpoints whose scheme is https or
// not yet known.
func (c *Collector) Applies(t target.Target) bool {
	return t.Kind == target.Endpoint && t.Address() != "" && (t.Scheme == "https" || t.Scheme == "tls" || t.Scheme == "")
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	if !c.Applies(t) {
		return nil, nil
	}
	if env != nil && env.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, env.Timeout)
		defer cancel()
	}
	tf, status, err := c.Probe(ctx, t, env)
	if errors.Is(err, errNotTLS) && t.Scheme == "" {
		env.Log().Debug("tls probe: not a TLS service", "target", t.Name, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := &facts.Facts{TLS: tf}
	for path, e := range status {
		f.SetStatus(path, collect.Failure(e))
	}
	return f, nil
}

// Probe scans one endpoint and returns its TLS facts, plus failures of
// sub-paths (an unparsable certificate, an unreadable CA bundle).
func (c *Collector) Probe(ctx context.Context, t target.Target, env *collect.Env) (*facts.TLS, map[string]error, error) {
	addr := t.Address()
	name := t.Host
	if t.Decl.Hostname != "" {
		name = t.Decl.Hostname
	}
	p := &prober{
		reg:            c.reg,
		connectTimeout: c.opts.ConnectTimeout, handshakeTimeout: c.opts.HandshakeTimeout,
		retryBackoff: c.opts.RetryBackoff, firstMoveWait: c.opts.FirstMoveWait,
		tlsCands: c.tls, tls13Cands: c.tls13, rank: c.rank,
		// One budget per host for every collector of the scan, keyed by
		// the host as the target names it.
		net: env.Net(c.opts.PerHost), host: t.Host,
	}
	if net.ParseIP(name) == nil {
		p.sni = name
	}
	ip, err := p.resolve(ctx, t.Host, t.Port)
	if err != nil {
		return nil, nil, fmt.Errorf("tls probe %s: %w", addr, err)
	}
	p.addr = net.JoinHostPort(ip, strconv.Itoa(t.Port))
	start := time.Now()
	// Reading the trust store takes about as long as probing a fast
	// server: do it meanwhile.
	type storeResult struct {
		store *trustStore
		err   error
	}
	storeCh := make(chan storeResult, 1)
	var bg collect.Group
	bg.Go(func() {
		store, err := loadTrustStore(c.roots(), envCABundle(env))
		storeCh <- storeResult{store, err}
	})
	bg.Go(certinfo.PrepareWSO2Fingerprints) // read by buildFacts
	res, err := p.run(ctx)
	bg.Wait()
	if err != nil {
		return nil, nil, fmt.Errorf("tls probe %s: %w", addr, err)
	}
	env.Log().Debug("tls probe done", "target", addr, "connections", p.net.Dials(), "elapsed", time.Since(start))
	sr := <-storeCh
	tf, status := c.buildFacts(res, addr, name, p.sni, env, sr.store, sr.err)
	return tf, status, nil
}

// resolve picks the address to probe: an IP literal as is, else the first
// resolved address that accepts a TCP connection (IPv4 or IPv6).
func (p *prober) resolve(ctx context.Context, host string, port int) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 1 {
		return addrs[0].IP.String(), nil
	}
	var errs []error
	for _, a := range addrs {
		addr := net.JoinHostPort(a.IP.String(), strconv.Itoa(port))
		c, err := p.net.Dial(ctx, collect.DialSpec{Host: p.host, Addr: addr, ConnectTimeout: p.connectTimeout, Label: "reach " + addr})
		if err == nil {
			_ = c.Close()
			return a.IP.String(), nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}
