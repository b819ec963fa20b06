package agent

import (
	"log/slog"
	"time"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/scan"
)

// ScannerConfig is what an agent's scanners are built from.
type ScannerConfig struct {
	// Rules are the agent's rules (the built-in set, plus --rules).
	Rules *rules.Set
	// Dialer makes every connection of the scan (from the zone).
	Dialer   collect.Dialer
	Version  string
	CABundle string
	// PortRate caps port-scan connection attempts per second (0: none).
	PortRate float64
	Now      func() time.Time
	Logger   *slog.Logger
}

// Scanners returns the scanner factory Options.Scanner takes: the same
// collectors as `rampart scan`, the job's rule selection and scan
// options.
func Scanners(cfg ScannerConfig) func(job *bus.Job) *scan.Scanner {
	return func(job *bus.Job) *scan.Scanner {
		selected, _ := cfg.Rules.Filter(job.Scan.Only, job.Scan.Skip)
		sc := facts.DefaultScan(time.Time{})
		sc.Intrusive = job.Scan.Intrusive
		if job.Scan.CertWarnDays > 0 {
			sc.CertWarnDays = job.Scan.CertWarnDays
		}
		perHost := job.Scan.PerHost
		if perHost <= 0 {
			perHost = 5
		}
		return &scan.Scanner{
			Collectors: scan.Collectors(scan.Config{Version: cfg.Version, PortRate: cfg.PortRate}),
			Rules:      selected,
			Env: collect.Env{Dialer: cfg.Dialer, Now: cfg.Now, Logger: cfg.Logger, Timeout: job.Scan.Timeout,
				PerHost: perHost, Intrusive: job.Scan.Intrusive, CABundle: cfg.CABundle},
			Scan:        sc,
			Concurrency: 4,
			Tool:        finding.Tool{Name: "rampart", Version: cfg.Version},
		}
	}
}
