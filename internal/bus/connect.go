package bus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// ClientConfig says how to connect to NATS: an agent to the server's
// embedded NATS or a cluster, or the server to an external cluster.
type ClientConfig struct {
	// URL is nats://host:port or tls://host:port (comma-separated for a
	// cluster).
	URL string
	// Name is the connection's name in the server's monitoring.
	Name string
	// User and Password authenticate with a user name; NKeySeedFile with
	// an nkey (the seed stays on this machine); CredsFile with a JWT
	// .creds file (a cluster run with accounts). At most one of them.
	User, Password string
	NKeySeedFile   string
	CredsFile      string
	// NKeySeed is an nkey seed held in memory (the coordinator's own key
	// for its embedded server: bus.NewServerKey).
	NKeySeed []byte
	// CAFile is the PEM CA to trust for TLS; CertFile and KeyFile a
	// client certificate, if the server asks for one.
	CAFile, CertFile, KeyFile string
	// TLS, when set, is the client's TLS configuration (the server's own
	// in-process connection trusts its certificate this way).
	TLS *tls.Config
	// InboxPrefix keeps reply subjects in the agent's own space (its
	// permissions allow only that).
	InboxPrefix string
	// InProcess connects to an embedded server without the network.
	InProcess nats.InProcessConnProvider
	// Dialer, when set, makes the TCP connections (tests: from a
	// network namespace).
	Dialer nats.CustomDialer
	Logger *slog.Logger
	// OnError, when set, also receives the asynchronous errors the server
	// sends (permission violations, authorization failures).
	OnError func(error)
}

// Connect connects, and keeps reconnecting for ever when the connection
// drops (NATS restarted, a network blip): messages published while
// disconnected are buffered, JetStream publishes are retried by callers.
func Connect(cfg ClientConfig) (*nats.Conn, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := 0
	for _, set := range []bool{cfg.User != "", cfg.NKeySeedFile != "", cfg.CredsFile != "", len(cfg.NKeySeed) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("nats: give one of user/password, an nkey seed or a creds file")
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.Timeout(10 * time.Second),
		nats.PingInterval(20 * time.Second),
		nats.ReconnectBufSize(16 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "err", err)
				if cfg.OnError != nil {
					cfg.OnError(err)
				}
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats: reconnected", "server", c.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			log.Warn("nats: error", "subject", subj, "err", err)
			if cfg.OnError != nil {
				cfg.OnError(err)
			}
		}),
	}
	switch {
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats: nkey seed: %w", err)
		}
		opts = append(opts, o)
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case len(cfg.NKeySeed) > 0:
		kp, err := nkeys.FromSeed(cfg.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("nats: nkey seed: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("nats: nkey seed: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	if cfg.TLS != nil {
		opts = append(opts, nats.Secure(cfg.TLS))
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	if cfg.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(cfg.InboxPrefix))
	}
	if cfg.InProcess != nil {
		opts = append(opts, nats.InProcessServer(cfg.InProcess))
	}
	if cfg.Dialer != nil {
		opts = append(opts, nats.SetCustomDialer(cfg.Dialer))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", redactURL(cfg.URL), err)
	}
	return nc, nil
}

// redactURL hides a password in a NATS URL for messages.
func redactURL(u string) string {
	if i := indexAt(u); i >= 0 {
		return "…" + u[i:]
	}
	return u
}

func indexAt(u string) int {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '@' {
			return i
		}
	}
	return -1
}
