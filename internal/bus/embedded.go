package bus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// EmbeddedConfig configures the NATS server `rampart serve` runs itself.
type EmbeddedConfig struct {
	// Listen is the client address agents connect to (host:port);
	// "127.0.0.1:0" picks a free port.
	Listen string
	// StoreDir holds JetStream's files (data_dir/nats).
	StoreDir string
	// TLS, when set, is required of every client.
	TLS *tls.Config
	// ServerKey is the nkey public key (U...) of the coordinator's own
	// account, which has every right: the coordinator signs in with the
	// seed (NewServerKey), which never leaves its process. A signature
	// check costs microseconds; a password would need a bcrypt
	// comparison (a second of CPU under load) on every connection.
	ServerKey string
	// Agents are the credentials allowed in, each with its permissions.
	Agents []Credential
	// MaxPayload bounds a message (default 8 MiB).
	MaxPayload int32
	// MaxStore bounds JetStream's file storage (default 10 GiB).
	MaxStore int64
	Logger   *slog.Logger
}

// Embedded is a running embedded nats-server with JetStream.
type Embedded struct {
	mu        sync.Mutex
	srv       *server.Server
	opts      *server.Options
	serverKey string
}

// NewServerKey makes the coordinator's key pair for an embedded server:
// its public key (EmbeddedConfig.ServerKey) and seed
// (ClientConfig.NKeySeed). Make a new one at every start.
func NewServerKey() (public string, seed []byte, err error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", nil, fmt.Errorf("nats: coordinator key: %w", err)
	}
	defer kp.Wipe()
	if public, err = kp.PublicKey(); err != nil {
		return "", nil, fmt.Errorf("nats: coordinator key: %w", err)
	}
	s, err := kp.Seed()
	if err != nil {
		return "", nil, fmt.Errorf("nats: coordinator key: %w", err)
	}
	// Wipe zeroes the key pair's own copy.
	return public, append([]byte(nil), s...), nil
}

// StartEmbedded starts the server and waits until it accepts clients.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	host, portS, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: bad port", cfg.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 8 << 20
	}
	if cfg.MaxStore <= 0 {
		cfg.MaxStore = 10 << 30
	}
	if !nkeys.IsValidPublicUserKey(cfg.ServerKey) {
		return nil, errors.New("nats: the embedded server needs the coordinator's nkey (bus.NewServerKey)")
	}
	opts := &server.Options{
		ServerName:         "rampart",
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxStore:  cfg.MaxStore,
		JetStreamMaxMemory: 64 << 20,
		MaxPayload:         cfg.MaxPayload,
		// Pending bytes a slow consumer may hold before it is cut off: above
		// the largest message.
		MaxPending:      int64(cfg.MaxPayload) * 8,
		NoSigs:          true,
		NoSystemAccount: false,
		HTTPPort:        0,
		WriteDeadline:   10 * time.Second,
	}
	if cfg.TLS != nil {
		opts.TLSConfig = cfg.TLS
		opts.TLS = true
		// Agents far away, or a loaded machine, may take seconds to
		// finish a handshake; authentication gets one second more.
		opts.TLSTimeout = 10
	}
	// Nothing in the server's options is a usable secret: the
	// coordinator's public key, the agents' bcrypt hashes and public keys.
	opts.Users, opts.Nkeys = users(cfg.ServerKey, cfg.Agents)
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(&logger{l: cfg.Logger.With("component", "nats")}, false, false, false)
	}
	go srv.Start()
	// Start enables JetStream before it listens: ready for connections is
	// ready for JetStream requests (clients still wait for JetStream to
	// answer: bus.Ready).
	if !srv.ReadyForConnections(time.Minute) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats: the embedded server did not start listening on %s within a minute", cfg.Listen)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, fmt.Errorf("nats: the embedded server started without JetStream (store %s)", cfg.StoreDir)
	}
	return &Embedded{srv: srv, opts: opts, serverKey: cfg.ServerKey}, nil
}

// users builds the server's user list: the coordinator with every right,
// each agent with its own permissions.
func users(serverKey string, agents []Credential) ([]*server.User, []*server.NkeyUser) {
	var us []*server.User
	nk := []*server.NkeyUser{{Nkey: serverKey}}
	for _, a := range agents {
		p := AgentPerms(a.Zone, a.Agent)
		perms := &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: p.Publish},
			Subscribe: &server.SubjectPermission{Allow: p.Subscribe},
		}
		switch {
		case a.NKey != "":
			nk = append(nk, &server.NkeyUser{Nkey: a.NKey, Permissions: perms})
		case a.PasswordHash != "":
			us = append(us, &server.User{Username: a.Agent, Password: a.PasswordHash, Permissions: perms})
		}
	}
	return us, nk
}

// SetAgents replaces the agents allowed in. Connections of agents no
// longer listed (revoked) are closed at once.
func (e *Embedded) SetAgents(agents []Credential) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.opts.Clone()
	o.Users, o.Nkeys = users(e.serverKey, agents)
	if err := e.srv.ReloadOptions(o); err != nil {
		return fmt.Errorf("nats: reload credentials: %w", err)
	}
	e.opts = o
	return nil
}

// ClientURL is the URL a client on this machine connects to.
func (e *Embedded) ClientURL() string {
	addr := e.srv.Addr().(*net.TCPAddr)
	scheme := "nats"
	if e.opts.TLSConfig != nil {
		scheme = "tls"
	}
	host := e.opts.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, strconv.Itoa(addr.Port)))
}

// Addr is the address the server listens on.
func (e *Embedded) Addr() net.Addr { return e.srv.Addr() }

// Server is the embedded server (in-process connections).
func (e *Embedded) Server() *server.Server { return e.srv }

// Shutdown stops the server; JetStream's files stay in StoreDir.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// logger sends nats-server's log lines to slog.
type logger struct{ l *slog.Logger }

func (g *logger) Noticef(format string, v ...any) { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g *logger) Warnf(format string, v ...any)   { g.l.Warn(fmt.Sprintf(format, v...)) }
func (g *logger) Fatalf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Errorf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Debugf(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g *logger) Tracef(format string, v ...any)  {}
