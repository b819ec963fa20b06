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
	"golang.org/x/crypto/bcrypt"
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
	// ServerUser and ServerPassword are the coordinator's own account.
	ServerUser, ServerPassword string
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
	mu         sync.Mutex
	srv        *server.Server
	opts       *server.Options
	serverUser string
	serverHash string
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
	if cfg.ServerUser == "" || cfg.ServerPassword == "" {
		return nil, errors.New("nats: the embedded server needs the coordinator's credentials")
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
		opts.TLSTimeout = 5
	}
	// The coordinator's password is kept as a bcrypt hash too: nothing in
	// the server's memory is a usable password.
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.ServerPassword), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	opts.Users, opts.Nkeys = users(cfg.ServerUser, string(hash), cfg.Agents)
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(&logger{l: cfg.Logger.With("component", "nats")}, false, false, false)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats: the embedded server did not start listening on %s within 30s", cfg.Listen)
	}
	return &Embedded{srv: srv, opts: opts, serverUser: cfg.ServerUser, serverHash: string(hash)}, nil
}

// users builds the server's user list: the coordinator with every right,
// each agent with its own permissions.
func users(serverUser, serverHash string, agents []Credential) ([]*server.User, []*server.NkeyUser) {
	us := []*server.User{{Username: serverUser, Password: serverHash}}
	var nk []*server.NkeyUser
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
	o.Users, o.Nkeys = users(e.serverUser, e.serverHash, agents)
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
