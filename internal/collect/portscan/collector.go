// Package portscan is the "ports" collector: a TCP connect scanner (the
// kernel's own handshake through the injected dialer: no raw packets, no
// root) with bounded concurrency, adaptive per-connection timeouts and a
// rate limit, for IPv4 and IPv6; service identification on the open ports
// (TLS, HTTP(S), SSH, Java RMI/JMX, LDAP, MySQL, PostgreSQL, Hazelcast,
// AMQP); host discovery over CIDR ranges; and the WSO2 default port
// catalogue (Identity Server, API Manager, Micro Integrator, with port
// offsets) that names the default ports it finds open.
package portscan

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// Workers is how many connects one scan has under way at once
	// (default 128; the adaptive timeout keeps unanswered ports from
	// holding them long). On Linux, with a plain net.Dialer or a Dialer
	// that opens sockets where it dials (SocketOpener), the scan makes
	// its own non-blocking connects and waits for them with one poll set
	// per CPU; otherwise each goes through the Dialer on a goroutine of
	// its own. This window is the scan's own: the per-host budget
	// (Env.Net) bounds the identification connections only.
	Workers int
	// Rate caps connection attempts per second across every scan this
	// collector runs (0: no cap beyond Workers).
	Rate float64
	// ConnectTimeout is the longest a connect may take before the port
	// counts as filtered (default 1.5s; each connect gets at least 3/4 of
	// it); MinTimeout the floor the adaptive timeout may shrink to once
	// round trips are known (default 250ms).
	ConnectTimeout time.Duration
	MinTimeout     time.Duration
	// BannerWait is how long identification waits for a server that
	// speaks first on a port without a hint before it sends its first
	// probe on the same connection (default 100ms: a banner that comes
	// later still names SSH or MySQL, it only costs the other probes).
	BannerWait time.Duration
	// ProbeTimeout bounds each identification connection (default 2s).
	ProbeTimeout time.Duration
	// AppWait is how long a TLS service may take to answer the HTTP (or,
	// on the LDAPS ports, LDAP) request sent inside once the handshake is
	// done before it is reported as TLS without naming what runs inside
	// (default 1s, at most ProbeTimeout).
	AppWait time.Duration
	// Silence is how long, from its connect, the first connection to a
	// port may hear nothing (neither a banner nor an answer to its probe)
	// before the other probes are sent at once, each heard out for one
	// short window (the silence plus four connect times) that the first
	// shares: a port that never speaks costs about two silences, not a
	// probe timeout per probe (default 250ms; after a banner wait, at
	// least the banner wait plus half the silence; negative: the probes
	// one after the other, each with the full ProbeTimeout).
	Silence time.Duration
	// Identify is how many open ports are identified at once (default 32;
	// the per-host limit applies on top).
	Identify int
	// MaxIdentify bounds the open ports identified on one host (default
	// 512): a firewall that accepts every connection would otherwise
	// cost up to seven probes on each of 65,535 ports. The others are
	// reported open with service "unknown".
	MaxIdentify int
	// UserAgent is sent with the HTTP probe.
	UserAgent string
	// MaxHosts bounds the addresses of a CIDR target (default 65536).
	MaxHosts int
}

// Collector is the port scanner. It is safe for concurrent use; the rate
// limit is shared by every scan it runs.
type Collector struct {
	opts    Options
	limiter waiter // nil: no rate limit
}

// waiter paces connection attempts (*rate.Limiter).
type waiter interface {
	Wait(ctx context.Context) error
}

// New returns a port-scanning collector.
func New(opts Options) *Collector {
	if opts.Workers <= 0 {
		opts.Workers = 128
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 1500 * time.Millisecond
	}
	if opts.MinTimeout <= 0 {
		opts.MinTimeout = 250 * time.Millisecond
	}
	opts.MinTimeout = min(opts.MinTimeout, opts.ConnectTimeout)
	if opts.BannerWait <= 0 {
		opts.BannerWait = 100 * time.Millisecond
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 2 * time.Second
	}
	if opts.AppWait <= 0 || opts.AppWait > opts.ProbeTimeout {
		opts.AppWait = min(time.Second, opts.ProbeTimeout)
	}
	if opts.Silence == 0 {
		opts.Silence = 250 * time.Millisecond
	}
	if opts.Identify <= 0 {
		opts.Identify = 32
	}
	if opts.MaxIdentify <= 0 {
		opts.MaxIdentify = 512
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "rampart"
	}
	if opts.MaxHosts <= 0 {
		opts.MaxHosts = 1 << 16
	}
	c := &Collector{opts: opts}
	if opts.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opts.Rate), max(1, int(opts.Rate/50)))
	}
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "ports" }

// Provides implements collect.Collector.
func (c *Collector) Provides() []string { return []string{facts.NSPorts} }

// Needs implements collect.Collector: the network.
func (*Collector) Needs() collect.Needs { return collect.Needs{Requires: collect.Network} }

// Applies implements collect.Collector: nodes, the bare hosts (or CIDR
// ranges) of an inventory.
func (c *Collector) Applies(t target.Target) bool {
	return t.Kind == target.Node && t.Host != ""
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	if !c.Applies(t) {
		return nil, nil
	}
	spec := t.Decl.Ports
	if spec == "" {
		spec = "top"
	}
	ports, err := portList(spec)
	if err != nil {
		return nil, err
	}
	p, err := c.Scan(ctx, t, spec, ports, env)
	if err != nil {
		return nil, err
	}
	f := &facts.Facts{Ports: p}
	if _, err := netip.ParsePrefix(t.Host); err == nil {
		// A range is no host: its live addresses (p.Hosts) become nodes
		// of their own, and the port rules judge those, not the range.
		f.SetStatus(facts.NSPorts, facts.Status{State: facts.Absent,
			Reason: fmt.Sprintf("%s is a range: its %d live address(es) are scanned as nodes of their own", t.Host, len(p.Hosts))})
	}
	return f, nil
}

// portList turns a port specification into ports ("top": the WSO2 and
// common ports).
func portList(spec string) ([]int, error) {
	ports, err := target.ParsePorts(spec)
	if err != nil {
		return nil, err
	}
	if ports == nil {
		ports = topPorts()
	}
	return ports, nil
}

// Scan scans ports of the target's host (or discovers the live hosts of
// its CIDR range) and returns the facts.
func (c *Collector) Scan(ctx context.Context, t target.Target, spec string, ports []int, env *collect.Env) (*facts.Ports, error) {
	if env == nil {
		env = &collect.Env{}
	}
	dialer := env.Dialer
	if dialer == nil {
		dialer = &net.Dialer{}
	}
	cs := &connectScanner{dialer: dialer, limiter: c.limiter, workers: c.opts.Workers,
		minTimeout: c.opts.MinTimeout, maxTimeout: c.opts.ConnectTimeout, raw: rawEngine(dialer)}
	out := &facts.Ports{Host: t.Host, Scanned: spec, Open: []facts.OpenPort{}, Hosts: []string{}, ProfilePorts: []int{}}

	if prefix, err := netip.ParsePrefix(t.Host); err == nil {
		hosts, tried, err := c.discover(ctx, cs, prefix)
		if err != nil {
			return nil, fmt.Errorf("ports %s: %w", t.Host, err)
		}
		out.Hosts, out.Tried = hosts, tried
		return out, nil
	}

	ip, err := resolve(ctx, t.Host)
	if err != nil {
		return nil, fmt.Errorf("ports %s: %w", t.Host, err)
	}
	out.Address = ip
	if env.PortProgress != nil && len(ports) > 0 {
		cs.progress = &progressCounter{total: len(ports), report: func(done, total, open int) { env.PortProgress(t.Host, done, total, open) }}
	}
	// Each port is identified as soon as it is found open, while the
	// scan goes on.
	idents := c.newIdentifying(ctx, env, t, ip)
	cs.onOpen = idents.found
	start := time.Now()
	res, err := cs.scan(ctx, ip, ports)
	if err != nil {
		idents.wait()
		return nil, fmt.Errorf("ports %s: scan stopped after %s: %w", t.Host, time.Since(start).Round(time.Millisecond), err)
	}
	env.Log().Debug("port scan done", "host", t.Host, "ports", len(ports), "open", len(res.open),
		"closed", res.closed, "filtered", res.filtered, "retried", res.transient, "elapsed", time.Since(start))
	out.Tried, out.Closed, out.Filtered = len(ports), res.closed, res.filtered
	out.Source = res.source

	if len(res.open) > c.opts.MaxIdentify {
		env.Log().Warn("too many open ports to identify them all", "host", t.Host, "open", len(res.open), "identified", c.opts.MaxIdentify)
	}
	ids := idents.finish(res.open[:min(len(res.open), c.opts.MaxIdentify)])
	env.Log().Debug("port identification done", "host", t.Host, "elapsed", time.Since(start))
	if ctx.Err() != nil {
		return nil, fmt.Errorf("ports %s: identification stopped: %w", t.Host, ctx.Err())
	}
	for i, p := range res.open {
		id := identity{service: svcUnknown, banner: fmt.Sprintf("not identified: more than %d ports open", c.opts.MaxIdentify)}
		if i < len(ids) {
			id = ids[i]
		}
		op := facts.OpenPort{Port: p, Service: id.service, Banner: id.banner,
			Origin: facts.Origin{Endpoint: net.JoinHostPort(ip, strconv.Itoa(p))}}
		if name, prods, ok := defaultName(p); ok {
			op.Default, op.Products = name, prods
		}
		out.Open = append(out.Open, op)
	}
	if out.Source != "" {
		out.SourceInClusterMembers = within(out.Source, t.Decl.ClusterMembers)
		out.SourceInAllowedSources = within(out.Source, t.Decl.AllowedSources)
	}
	if k, ok := detectOffset(t.Profile, res.open); ok {
		out.Offset = k
		out.ProfilePorts = profilePorts(t.Profile, k)
	}
	return out, nil
}

// identifying identifies the services on the open ports of one address
// while the scan finds them: a few at a time (Options.Identify), under the
// scan's per-host connection limit, at most Options.MaxIdentify while the
// scan runs.
type identifying struct {
	ctx   context.Context
	log   *slog.Logger
	id    *identifier
	limit int
	sem   chan struct{}
	wg    collect.Group
	mu    sync.Mutex
	ports map[int]*identity
}

func (c *Collector) newIdentifying(ctx context.Context, env *collect.Env, t target.Target, ip string) *identifying {
	id := &identifier{net: env.Net(5), ip: ip, hostHeader: t.Host, userAgent: c.opts.UserAgent,
		bannerWait: c.opts.BannerWait, probeTimeout: c.opts.ProbeTimeout, appWait: c.opts.AppWait, silence: max(c.opts.Silence, 0)}
	if net.ParseIP(t.Host) == nil {
		id.serverName = t.Host
	}
	if t.Decl.Hostname != "" {
		id.serverName = t.Decl.Hostname
	}
	return &identifying{ctx: ctx, log: env.Log(), id: id, limit: c.opts.MaxIdentify, sem: make(chan struct{}, c.opts.Identify), ports: map[int]*identity{}}
}

// found starts identifying port, unless MaxIdentify ports already are.
func (s *identifying) found(port int) { s.start(port, true) }

func (s *identifying) start(port int, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ports[port] != nil || (limited && len(s.ports) >= s.limit) {
		return
	}
	r := &identity{}
	s.ports[port] = r
	s.wg.Go(func() {
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.sem }()
		began := time.Now()
		*r = s.id.identify(s.ctx, port)
		s.log.Debug("port identified", "host", s.id.ip, "port", port, "service", r.service, "elapsed", time.Since(began))
	})
}

// finish identifies those of ports not yet under way (when more than
// MaxIdentify are open, the lowest ones are reported, whichever were found
// first), waits, and returns their services in the order of ports. Ports
// identified meanwhile but not among them are left out: the report does
// not depend on the order the scan found them in.
func (s *identifying) finish(ports []int) []identity {
	for _, p := range ports {
		s.start(p, false)
	}
	s.wait()
	out := make([]identity, len(ports))
	for i, p := range ports {
		out[i] = *s.ports[p]
	}
	return out
}

// wait waits for every identification under way.
func (s *identifying) wait() { s.wg.Wait() }

// resolve returns the address to scan: an IP literal as is (brackets and
// zone kept out), else the first address the resolver gives.
func resolve(ctx context.Context, host string) (string, error) {
	h := host
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String(), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("resolve %s: no address", host)
	}
	return addrs[0].Unmap().String(), nil
}

// within reports whether ip lies in one of the addresses or CIDR ranges.
func within(ip string, set []string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, s := range set {
		if b, err := netip.ParseAddr(s); err == nil && b.Unmap() == a {
			return true
		}
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}

// discoveryPorts are tried on each address of a CIDR range: an address
// is live when any of them answers, open or refused.
var discoveryPorts = []int{22, 80, 443, 8243, 8253, 8280, 8290, 9443, 9763}

// discover finds the live addresses of a CIDR range.
func (c *Collector) discover(ctx context.Context, cs *connectScanner, prefix netip.Prefix) ([]string, int, error) {
	prefix = prefix.Masked()
	bits := prefix.Addr().BitLen() - prefix.Bits()
	if bits > 30 || 1<<bits > c.opts.MaxHosts {
		return nil, 0, fmt.Errorf("range %s has more than %d addresses", prefix, c.opts.MaxHosts)
	}
	var addrs []netip.Addr
	for a := prefix.Addr(); prefix.Contains(a); a = a.Next() {
		addrs = append(addrs, a)
		if !a.Next().IsValid() {
			break
		}
	}
	if prefix.Addr().Is4() && prefix.Bits() <= 30 && len(addrs) > 2 {
		addrs = addrs[1 : len(addrs)-1] // network and broadcast addresses
	}
	var (
		mu   sync.Mutex
		live []string
		wg   collect.Group
		next atomic.Int64
	)
	for range min(len(addrs), max(1, c.opts.Workers/len(discoveryPorts))) {
		wg.Go(func() {
			sub := *cs
			sub.workers = len(discoveryPorts)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(addrs) {
					return
				}
				res, err := sub.scan(ctx, addrs[i].String(), discoveryPorts)
				if err == nil && (len(res.open) > 0 || res.closed > 0) {
					mu.Lock()
					live = append(live, addrs[i].String())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	sort.Slice(live, func(i, j int) bool {
		return netip.MustParseAddr(live[i]).Less(netip.MustParseAddr(live[j]))
	})
	return live, len(addrs) * len(discoveryPorts), nil
}
