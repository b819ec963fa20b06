// Package collect runs collectors: the code that gathers facts about a
// target from files, the operating system or the network. Collectors never
// judge; they return facts, and the rules decide. Everything a collector
// touches in the outside world comes in through Env, so tests (and offline
// images) can stand in for the network, the file system and the clock.
package collect

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Collector gathers one kind of facts.
//
// Collect returns a Facts value holding only the namespaces it fills (and
// any Status entries for sub-paths it could not read, via Facts.Fail). An
// error means the collector could not tell at all: every namespace it
// Provides is then marked Failed with the error as the reason. Returning a
// nil namespace with no error means the target offers nothing of this kind
// (an HTTPS port has no SSH); the runner marks it Absent.
type Collector interface {
	// Name is short and stable: "wso2", "tls", "http", "ssh", "ports", "hostos".
	Name() string
	// Provides lists the fact namespaces this collector fills.
	Provides() []string
	// Applies reports whether the collector has anything to say about t.
	Applies(t target.Target) bool
	// Needs declares what of the outside world the collector requires and
	// uses; the runner checks and grants it (Offered, Env.Can).
	Needs() Needs
	Collect(ctx context.Context, t target.Target, env *Env) (*facts.Facts, error)
}

// Dialer opens network connections. *net.Dialer satisfies it; tests may
// wrap it to count or refuse connections, or to record and replay
// conversations (DialLabel names the connection being dialed). Probes do
// not call it: they dial through Env.Net, which bounds every connection.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Env is what collectors may use of the outside world.
type Env struct {
	Dialer Dialer
	// FS opens files of a Host target's root or a Directory target; nil
	// means the collector opens its own os.Root/os.DirFS at target.Dir.
	FS     fs.FS
	Now    func() time.Time
	Logger *slog.Logger
	// Timeout bounds each collector on one target.
	Timeout time.Duration
	// PerHost limits concurrent connections to one host (politeness).
	PerHost int
	// PerHostMax, when above PerHost, lets a host that answers fast (within
	// DefaultAnswerCeiling) have up to that many connections at once: its
	// window widens with each fast answer and narrows with slow ones (see
	// NewAdaptiveHostLimiter).
	PerHostMax int
	// Hosts enforces PerHost across every target of a scan (the scan
	// creates it once and every target's Env shares it); nil means each
	// collector bounds its own connections.
	Hosts *HostLimiter
	// Entropy gives each probe connection its randomness; nil means
	// crypto/rand (see Entropy).
	Entropy Entropy
	// Intrusive allows active checks such as a default-credential login.
	Intrusive bool
	// CABundle is a PEM file of extra trusted roots for certificate checks.
	CABundle string
	// Exec runs allow-listed commands (argv, no shell, with a timeout); nil
	// means no command may be run and collectors fall back to files.
	Exec Executor
	// Granted is what the runner grants the collector on this target of
	// what it Needs (Env.Can asks); set by Run and Collect.
	Granted Capability
	// PortProgress, when set, is told how a port scan of host advances:
	// ports decided so far of total, and open ones among them. It is
	// called from the scan's workers, every few hundred ports and at the
	// end, and must be quick and safe for concurrent use.
	PortProgress func(host string, done, total, open int)
}

// Executor runs an allow-listed program and returns its standard output.
type Executor interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Clock returns env.Now, or time.Now when none was injected.
func (e *Env) Clock() time.Time {
	if e != nil && e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Log returns the injected logger or one that discards.
func (e *Env) Log() *slog.Logger {
	if e != nil && e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}
