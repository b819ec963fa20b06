package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// zoneRuntime is what serve runs for the inventory's zones: NATS (the
// embedded server, or a connection to a cluster) and the coordinator.
type zoneRuntime struct {
	co       *coord.Coordinator
	embedded *bus.Embedded
	conn     *nats.Conn
}

// startZones starts the zones' NATS and coordinator when the inventory
// has zones (stop undoes it after ctx is done).
func (s *Server) startZones(ctx context.Context) (stop func(), err error) {
	zs := s.cfg.InventoryZones()
	if len(zs) == 0 {
		return func() {}, nil
	}
	cs, ok := s.store.(coord.Store)
	if !ok {
		return nil, errors.New("zones: this store cannot keep zone jobs")
	}
	if s.opt.NewScanner == nil {
		return nil, errors.New("zones: no scanner to take the exposure rules from")
	}
	rt := &zoneRuntime{}
	var setCreds func([]bus.Credential) error
	n := s.cfg.NATS
	if n.External() {
		cc := bus.ClientConfig{URL: n.URL, Name: "rampart-serve", CredsFile: n.Creds, User: n.User, NKeySeedFile: n.NKeyFile,
			CAFile: n.CA, CertFile: n.Cert, KeyFile: n.Key, Logger: s.log}
		if n.PasswordFile != "" {
			b, err := os.ReadFile(n.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("nats.password_file: %w", err)
			}
			cc.Password = strings.TrimRight(string(b), "\r\n")
		}
		if rt.conn, err = bus.Connect(cc); err != nil {
			return nil, err
		}
	} else {
		// The embedded server starts with the agents the store lets in:
		// an agent reconnecting after a restart is let in at once, not
		// refused until the coordinator has set the streams up.
		agents, err := coord.AgentCredentials(ctx, cs)
		if err != nil {
			return nil, fmt.Errorf("zones: %w", err)
		}
		// The coordinator signs in with a key made for this process: the
		// server keeps only its public key.
		pub, seed, err := bus.NewServerKey()
		if err != nil {
			return nil, err
		}
		rt.embedded, err = bus.StartEmbedded(bus.EmbeddedConfig{Listen: n.Listen, StoreDir: filepath.Join(s.cfg.DataDir, "nats"),
			TLS: &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}, ServerKey: pub,
			Agents: agents, MaxPayload: n.MaxPayload, Logger: s.log})
		if err != nil {
			return nil, err
		}
		// The in-process connection speaks TLS too: it trusts the server's
		// own certificate.
		roots := x509.NewCertPool()
		if leaf, err := x509.ParseCertificate(s.cert.Certificate[0]); err == nil {
			roots.AddCert(leaf)
		}
		if rt.conn, err = bus.Connect(bus.ClientConfig{URL: rt.embedded.ClientURL(), InProcess: rt.embedded.Server(), Name: "rampart-serve",
			NKeySeed: seed, TLS: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Logger: s.log}); err != nil {
			rt.embedded.Shutdown()
			return nil, err
		}
		e := rt.embedded
		setCreds = e.SetAgents
	}
	closeAll := func() {
		rt.conn.Close()
		if rt.embedded != nil {
			rt.embedded.Shutdown()
		}
	}
	z := s.cfg.Zones
	sc := s.cfg.Scan
	rt.co, err = coord.New(coord.Config{
		Zones: zs, Targets: s.cfg.Targets, Catalog: zone.NewCatalog(s.opt.NewScanner().Rules), Exceptions: s.opt.Exceptions,
		Conn: rt.conn, Store: cs,
		Queue:       bus.QueueConfig{AckWait: z.AckWait, JobsMaxAge: z.JobsMaxAge, ResultsMaxBytes: z.ResultsMaxBytes, MaxResultBytes: z.MaxResultBytes, Replicas: n.Replicas},
		Scan:        bus.ScanOptions{Timeout: sc.Timeout, Intrusive: sc.Intrusive, CertWarnDays: sc.CertWarnDays, PerHost: sc.PerHost, Only: sc.Only, Skip: sc.Skip},
		MaxAttempts: z.MaxAttempts, RoundTimeout: z.RoundTimeout, AgentTimeout: z.AgentTimeout,
		Alerts: s.zoneAlerts, Stored: func(store.Drift) { s.wakeAlerts() }, FirstRun: s.cfg.FirstRunPolicy,
		CertWarnDays: s.cfg.Alerts.CertWarnDays, Retention: s.cfg.Retention, Credentials: setCreds, Version: s.opt.Version, Now: s.now, Logger: s.log,
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	if err := rt.co.Start(ctx); err != nil {
		closeAll()
		return nil, err
	}
	s.zones = rt
	where := "embedded NATS at " + n.Listen
	if rt.embedded != nil {
		where = "embedded NATS at " + rt.embedded.ClientURL()
		fmt.Fprintf(s.opt.Notice, "rampart: zone agents connect to tls://%s (embedded NATS)\n", rt.embedded.Addr())
	}
	if n.External() {
		where = "NATS cluster " + n.URL
	}
	s.log.Info("zones: coordinating agents", "zones", len(zs), "nats", where)
	return func() {
		rt.co.Wait()
		closeAll()
	}, nil
}

// zoneAlerts routes a zone run's drift like a scheduled run's.
func (s *Server) zoneAlerts(onFirstRun string) func(store.Drift) []store.OutboxItem {
	return func(d store.Drift) []store.OutboxItem {
		evs := alert.FromDrift(d)
		if onFirstRun == FirstRunFailures {
			evs = append(evs, alert.FromFirstRun(d)...)
		}
		return alert.Route(evs, s.dests, s.installation)
	}
}

// zoneFanOut sends a schedule's targets that zones judge to the agents
// and returns those the server scans itself.
func (s *Server) zoneFanOut(ctx context.Context, name string, targets []target.Target) []target.Target {
	if s.zones == nil || len(targets) == 0 {
		return targets
	}
	local, round, err := s.zones.co.FanOut(ctx, name, targets)
	if err != nil {
		s.log.Error("zones: fan-out", "schedule", name, "round", round, "err", err)
	}
	return local
}
