// Package server is `rampart serve`: scheduled audits whose history goes
// to the store, a dashboard and a JSON API over HTTPS, drift alerts to
// webhooks, and health monitoring with Prometheus metrics. It is itself a
// production service and follows the guidelines it checks: HTTPS only
// with TLS 1.2+ and AEAD suites, no default credentials, argon2id
// passwords, hashed session IDs in strict cookies, HSTS and CSP, no
// product banner, secrets encrypted at rest, rate-limited sign-in.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/monitor"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/server/metrics"
	"github.com/rampart-sec/rampart/internal/server/schedule"
	"github.com/rampart-sec/rampart/internal/server/secret"
	"github.com/rampart-sec/rampart/internal/server/sso"
	"github.com/rampart-sec/rampart/internal/server/tlsconf"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/waiver"
	"github.com/rampart-sec/rampart/internal/web"
)

// Options are what the command line gives the server.
type Options struct {
	Config *Config
	// NewScanner returns a scanner ready to run (collectors, rules,
	// exceptions and options set).
	NewScanner func() *scan.Scanner
	// Exceptions are the waivers and attestations in force (shown on the
	// dashboard).
	Exceptions *waiver.Set
	Logger     *slog.Logger
	Now        func() time.Time
	Version    string
	// Notice receives the one-time setup token at first start.
	Notice io.Writer
	// AdminPassword creates the first admin (Config.Admin.Username) instead
	// of a setup token.
	AdminPassword string
	// PasswordParams override the argon2id costs (tests).
	PasswordParams *auth.Params
	// Store, when set, is used instead of opening Config's storage (the
	// server closes it when it stops).
	Store Store
}

// HashSlots is how many password hashes run at once (64 MiB each with
// the default argon2id costs); sign-ins beyond that are answered 429.
const HashSlots = 2

// Server is a running rampart serve.
type Server struct {
	opt      Options
	cfg      *Config
	log      *slog.Logger
	store    Store
	box      *secret.Box
	cert     tls.Certificate
	sessions *auth.Sessions
	setup    *auth.Setup
	invites  *auth.Invites
	csrf     *auth.CSRF
	limiter  *auth.Limiter
	// addrLimiter limits sign-ins per client address across accounts.
	addrLimiter *auth.Limiter
	hashing     *auth.Gate
	metrics     *metrics.Metrics
	pages       *web.Pages
	dests       []alert.Destination
	dispatch    *alert.Dispatcher
	checker     *monitor.Checker

	scanMu   sync.Mutex // one scan at a time
	mu       sync.Mutex
	running  map[string]time.Time // schedule -> started
	nextRuns map[string]time.Time
	trigger  chan string
	dummy    string
	// installation is this installation's random ID (kept in the store):
	// alert idempotency keys are scoped to it.
	installation string
	// zones runs the inventory's zone agents' coordination (nil: none).
	zones *zoneRuntime
	// sso signs people in through the OpenID Connect provider (nil: none).
	sso *sso.Flow
}

func (s *Server) now() time.Time {
	if s.opt.Now != nil {
		return s.opt.Now()
	}
	return time.Now()
}

// New opens the store, loads or makes the certificate and the secrets key,
// and makes sure an admin exists or a setup token is outstanding.
func New(ctx context.Context, opt Options) (*Server, error) {
	cfg := opt.Config
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Notice == nil {
		opt.Notice = os.Stderr
	}
	s := &Server{opt: opt, cfg: cfg, log: opt.Logger, metrics: metrics.New(), running: map[string]time.Time{}, nextRuns: map[string]time.Time{}, trigger: make(chan string, 8)}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	box, err := secret.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.box = box
	if cfg.TLS.Cert != "" {
		s.cert, err = tlsconf.Load(cfg.TLS.Cert, cfg.TLS.Key)
	} else {
		var gen bool
		s.cert, gen, err = tlsconf.LoadOrGenerate(cfg.DataDir, cfg.TLS.Hosts, s.now())
		if gen {
			s.log.Info("generated a TLS certificate", "ca", cfg.DataDir+"/"+tlsconf.CAFile)
		}
	}
	if err != nil {
		return nil, err
	}
	st := opt.Store
	if st == nil {
		if st, err = store.Open(ctx, cfg.StorageSpec()); err != nil {
			return nil, err
		}
	}
	s.store = st
	prm := auth.DefaultParams
	if opt.PasswordParams != nil {
		prm = *opt.PasswordParams
	}
	s.sessions = &auth.Sessions{Store: st, TTL: cfg.SessionTTL, Now: s.now}
	s.setup = &auth.Setup{Store: st, Box: box, TTL: 24 * time.Hour, Now: s.now, Params: prm}
	s.invites = &auth.Invites{Box: box, TTL: cfg.InviteTTL, Now: s.now}
	s.csrf = &auth.CSRF{Box: box}
	// Sign-in: 5 failures per account and address lock that pair out for
	// 15 minutes, doubling with each further lock-out up to a day; 20
	// per address (any accounts) lock the address out for 15 minutes.
	s.limiter = &auth.Limiter{Max: 5, Window: 15 * time.Minute, MaxLock: 24 * time.Hour, Now: s.now}
	s.addrLimiter = &auth.Limiter{Max: 20, Window: 15 * time.Minute, Now: s.now}
	s.hashing = auth.NewGate(HashSlots)
	if cfg.OIDC.Enabled() {
		if s.sso, err = sso.New(cfg.OIDC, box, s.now); err != nil {
			st.Close()
			return nil, err
		}
	}
	s.pages, err = web.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	if s.installation, err = installationID(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.setupAlerts(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.setupMonitor(); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// Store returns the server's store.
func (s *Server) Store() Store { return s.store }

// installationKey is the setting holding the installation's ID.
const installationKey = "installation_id"

// settings is what the server's own settings (the installation's ID, the
// sealed secrets it keeps) need of the store.
type settings interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// installationID returns this installation's ID, made (128 random bits)
// at first start.
func installationID(ctx context.Context, st settings) (string, error) {
	id, err := st.Setting(ctx, installationKey)
	if err == nil && id != "" {
		return id, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("installation ID: %w", err)
	}
	id = secret.Token("")[:22]
	if err := st.SetSetting(ctx, installationKey, id); err != nil {
		return "", fmt.Errorf("installation ID: %w", err)
	}
	return id, nil
}

// ensureAdmin creates the first admin from the given secret, or issues a
// setup token while no user exists.
func (s *Server) ensureAdmin(ctx context.Context) error {
	need, err := s.setup.Needed(ctx)
	if err != nil || !need {
		return err
	}
	if s.opt.AdminPassword != "" {
		if s.cfg.Admin.Username == "" {
			s.cfg.Admin.Username = "admin"
		}
		_, err := s.setup.CreateAdmin(ctx, s.cfg.Admin.Username, s.opt.AdminPassword, "from the password given at start")
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		s.log.Info("created the first admin from the given secret", "user", s.cfg.Admin.Username)
		return nil
	}
	tok, err := s.setup.Issue(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.opt.Notice, "rampart: no admin yet. Open /setup on this server and create one with this one-time setup token (valid 24h):\nsetup token: %s\n", tok)
	return nil
}

// setupAlerts builds the webhooks. A destination's URL and secret are
// sealed into the store (AES-256-GCM under the secrets key), so they can
// be removed from the configuration afterwards.
func (s *Server) setupAlerts(ctx context.Context) error {
	s.dests = append([]alert.Destination(nil), s.cfg.Alerts.Destinations...)
	senders := map[string]alert.Deliverer{}
	for i := range s.dests {
		d := &s.dests[i]
		u, err := s.sealed(ctx, "alert.url."+d.Name, d.LoadURL)
		if err != nil {
			return fmt.Errorf("destination %s: %w", d.Name, err)
		}
		if u == "" {
			return fmt.Errorf("destination %s: no url or url_file, and none stored at an earlier start", d.Name)
		}
		d.URL, d.URLFile = u, ""
		sec, err := s.sealed(ctx, "alert.secret."+d.Name, d.LoadSecret)
		if err != nil {
			return fmt.Errorf("destination %s secret: %w", d.Name, err)
		}
		if sec == "" {
			s.log.Warn("alert destination has no secret: deliveries are not signed", "destination", d.Name)
		}
		wh, err := alert.NewWebhook(*d, []byte(sec), "rampart/"+s.opt.Version)
		if err != nil {
			return err
		}
		senders[d.Name] = wh
	}
	s.dispatch = &alert.Dispatcher{Store: s.store, Destinations: senders, Now: s.now, Logger: s.log,
		Wake: make(chan struct{}, 1), Observe: s.metrics.Alert, RetryFor: s.cfg.Alerts.RetryFor}
	return nil
}

// sealed returns a value given in the configuration (load), keeping it
// encrypted in the store under label; without one it returns the value
// stored at an earlier start ("" if none).
func (s *Server) sealed(ctx context.Context, label string, load func() (string, error)) (string, error) {
	v, err := load()
	if err != nil {
		return "", err
	}
	if v != "" {
		return v, s.store.SetSetting(ctx, label, s.box.Seal(label, []byte(v)))
	}
	stored, err := s.store.Setting(ctx, label)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	b, err := s.box.Open(label, stored)
	return string(b), err
}

func (s *Server) wakeAlerts() {
	select {
	case s.dispatch.Wake <- struct{}{}:
	default:
	}
}

// raise enqueues events for every destination.
func (s *Server) raise(ctx context.Context, evs []alert.Event) {
	items := alert.Route(evs, s.dests, s.installation)
	if len(items) == 0 {
		return
	}
	now := s.now()
	for i := range items {
		items[i].EnqueuedAt = now
	}
	if _, err := s.store.Enqueue(ctx, items); err != nil {
		s.log.Error("enqueue alerts", "err", err)
		return
	}
	s.wakeAlerts()
}

func (s *Server) setupMonitor() error {
	var eps []monitor.Endpoint
	seen := map[string]bool{}
	for _, t := range s.cfg.Targets() {
		if t.Address() == "" || len(t.Decl.HealthPaths) == 0 {
			continue
		}
		scheme := t.Scheme
		if scheme == "" || scheme == "ssh" {
			scheme = "https"
		}
		for _, p := range t.Decl.HealthPaths {
			u := scheme + "://" + t.Address() + p
			if !seen[u] {
				seen[u] = true
				eps = append(eps, monitor.Endpoint{Target: t.Name, URL: u})
			}
		}
	}
	for _, e := range s.cfg.Monitor.Endpoints {
		if !seen[e.URL] {
			seen[e.URL] = true
			eps = append(eps, monitor.Endpoint{Target: e.Target, URL: e.URL})
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	// monitor.ca_bundle, else the scans' scan.ca_bundle: health checks
	// trust what the scans trust.
	f := s.cfg.Monitor.CABundle
	if f == "" {
		f = s.cfg.Scan.CABundle
	}
	if f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("health checks' ca_bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("health checks' ca_bundle %s: no PEM certificate", f)
		}
		tc.RootCAs = pool
	}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	m := s.cfg.Monitor
	s.checker = &monitor.Checker{Endpoints: eps, Client: client, Store: s.store, Interval: m.Interval, Timeout: m.Timeout,
		SlowFactor: m.SlowFactor, MinSlow: m.MinSlow, Baseline: m.Baseline, Now: s.now, Logger: s.log,
		Alert: s.raise, Observe: s.metrics.Health}
	return nil
}

// Serve serves on ln (HTTPS) and runs the scheduler, the monitor and the
// alert dispatcher until ctx is done, then shuts down gracefully: a scan
// under way is abandoned without a trace (no half-written run), finished
// runs are all in the store.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.store.Close()
	hs := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         tlsconf.Config(s.cert),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := func(fn func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); fn(ctx) }()
	}
	stopZones, zerr := s.startZones(ctx)
	if zerr != nil {
		return zerr
	}
	defer stopZones() // every return path has ended ctx: the coordinator stops
	start(s.dispatch.Run)
	start(s.checker.Run)
	runner := &schedule.Runner{Schedules: s.cfg.ScheduleList(), Run: s.runSchedule, Now: s.now, Logger: s.log,
		NextRuns: func(name string, next time.Time) { s.mu.Lock(); s.nextRuns[name] = next; s.mu.Unlock() }}
	start(runner.Start)
	start(s.manualRuns)

	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		cancel()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	err := hs.Shutdown(sctx)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// manualRuns runs schedules triggered from the dashboard or the API.
func (s *Server) manualRuns(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-s.trigger:
			s.runSchedule(ctx, name)
		}
	}
}

// Trigger asks for a schedule to run now; false when it is unknown or
// already queued.
func (s *Server) Trigger(name string) bool {
	if s.cfg.scheduleTargets(name) == nil {
		return false
	}
	select {
	case s.trigger <- name:
		return true
	default:
		return false
	}
}

// CAFile returns the generated CA's path ("" with a given certificate).
func (s *Server) CAFile() string {
	if s.cfg.TLS.Cert != "" {
		return ""
	}
	return s.cfg.DataDir + "/" + tlsconf.CAFile
}

func (s *Server) scheduleState() (running map[string]time.Time, next map[string]time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	running, next = map[string]time.Time{}, map[string]time.Time{}
	for k, v := range s.running {
		running[k] = v
	}
	for k, v := range s.nextRuns {
		next[k] = v
	}
	return running, next
}

// clientIP is the address a request came from (no proxy headers are
// trusted: the server terminates TLS itself).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return strings.TrimSpace(host)
}
