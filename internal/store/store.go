// Package store keeps the history of scans: runs, the targets they
// covered and their findings, stored by fingerprint so every finding has a
// first seen, last seen and fixed-at time; plus what `rampart serve` needs
// to keep between restarts (users, sessions, API tokens, the alert outbox,
// health samples). It speaks SQLite (a pure-Go driver, the default) and
// PostgreSQL (pgx) through one implementation, with embedded, versioned
// migrations. Each run is written in one transaction together with the
// alerts it raises, so a crash loses no completed run and leaves no
// half-written one.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// ErrNotFound is returned when a run, target, user or setting does not exist.
var ErrNotFound = errors.New("not found")

// Store is what the server needs of its database.
type Store interface {
	// SaveRun stores a finished run, updates each target and finding's
	// history, computes the drift against each target's previous state and
	// enqueues the alerts that alerts(drift) returns, all in one transaction.
	SaveRun(ctx context.Context, in RunInput, alerts func(Drift) []OutboxItem) (Drift, error)
	Runs(ctx context.Context, limit int, beforeID int64) ([]Run, error)
	Run(ctx context.Context, id int64) (Run, error)
	// RunFindings returns a run's findings (optionally of one target).
	RunFindings(ctx context.Context, runID int64, target string) ([]Record, error)
	RunTargets(ctx context.Context, runID int64) ([]RunTarget, error)
	Targets(ctx context.Context) ([]TargetState, error)
	Target(ctx context.Context, name string) (TargetState, error)
	// Findings returns the latest findings of every target (each target's
	// last run), filtered.
	Findings(ctx context.Context, f Filter) ([]Record, error)
	// TargetHistory returns the runs that covered a target, newest first.
	TargetHistory(ctx context.Context, name string, limit int) ([]TargetRun, error)

	Enqueue(ctx context.Context, items []OutboxItem) (int, error)
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	MarkFailed(ctx context.Context, id int64, next time.Time, reason string) error
	OutboxStats(ctx context.Context) (OutboxStats, error)

	CreateUser(ctx context.Context, username, passwordHash string, admin bool, now time.Time) (User, error)
	UserByName(ctx context.Context, username string) (User, error)
	CountUsers(ctx context.Context) (int, error)
	CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error
	SessionUser(ctx context.Context, idHash string, now time.Time) (User, error)
	DeleteSession(ctx context.Context, idHash string) error
	CreateToken(ctx context.Context, name, tokenHash, by string, now time.Time) (Token, error)
	TokenByHash(ctx context.Context, tokenHash string, now time.Time) (Token, error)
	Tokens(ctx context.Context) ([]Token, error)
	DeleteToken(ctx context.Context, id int64) error
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error

	RecordHealth(ctx context.Context, s HealthSample) error
	HealthHistory(ctx context.Context, url string, limit int) ([]HealthSample, error)
	LatestHealth(ctx context.Context) ([]HealthSample, error)

	// Prune deletes runs that finished before a time (except each
	// target's latest), with their findings, and older health samples and
	// delivered alerts. It returns how many runs went.
	Prune(ctx context.Context, before time.Time) (int, error)

	// Dialect names the database: sqlite or postgres.
	Dialect() string
	Close() error
}

// RunInput is one finished scan to store.
type RunInput struct {
	Report *finding.Report
	// Source says where the run came from: schedule:NAME, upload, manual.
	Source string
	// Observations are per-target facts the history tracks beyond
	// findings (open ports, served certificates), by target name.
	Observations map[string]Observation
	// CertWarnDays: certificates expiring within this many days of the
	// run's end are reported in the drift.
	CertWarnDays int
	// Now is when the run is stored.
	Now time.Time
}

// Observation is what drift detection tracks of a target beyond findings.
type Observation struct {
	// PortsScanned is true when OpenPorts holds a port scan's result.
	PortsScanned bool   `json:"ports_scanned,omitempty"`
	OpenPorts    []int  `json:"open_ports,omitempty"`
	Certs        []Cert `json:"certs,omitempty"`
}

// Cert is a served (or keystore) certificate.
type Cert struct {
	Subject  string    `json:"subject"`
	SHA256   string    `json:"sha256"`
	NotAfter time.Time `json:"not_after"`
}

// Run is one stored scan.
type Run struct {
	ID          int64           `json:"id"`
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  time.Time       `json:"finished_at"`
	StoredAt    time.Time       `json:"stored_at"`
	Source      string          `json:"source"`
	ToolVersion string          `json:"tool_version"`
	Interrupted bool            `json:"interrupted"`
	Targets     int             `json:"targets"`
	Findings    int             `json:"findings"`
	Summary     finding.Summary `json:"summary"`
}

// Duration is how long the scan took.
func (r Run) Duration() time.Duration { return r.FinishedAt.Sub(r.StartedAt) }

// RunTarget is one target as a run saw it.
type RunTarget struct {
	RunID        int64       `json:"run_id"`
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	Product      string      `json:"product,omitempty"`
	Version      string      `json:"version,omitempty"`
	Errors       []string    `json:"errors,omitempty"`
	Observations Observation `json:"observations"`
}

// TargetState is a target with its latest run's counts.
type TargetState struct {
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	Product      string      `json:"product,omitempty"`
	Version      string      `json:"version,omitempty"`
	Role         string      `json:"role,omitempty"`
	Parent       string      `json:"parent,omitempty"`
	Profiles     []string    `json:"profiles"`
	Errors       []string    `json:"errors,omitempty"`
	Observations Observation `json:"observations"`
	FirstSeen    time.Time   `json:"first_seen"`
	LastSeen     time.Time   `json:"last_seen"`
	LastRunID    int64       `json:"last_run_id"`
	// ByStatus counts the latest run's findings by status; FailBySeverity
	// the failing ones by severity; FailByDomain by domain.
	ByStatus       map[finding.Status]int `json:"by_status"`
	FailBySeverity map[string]int         `json:"fail_by_severity"`
	FailByDomain   map[string]int         `json:"fail_by_domain"`
}

// TargetRun is one run's counts for a target (for trend charts).
type TargetRun struct {
	RunID    int64                  `json:"run_id"`
	At       time.Time              `json:"at"`
	ByStatus map[finding.Status]int `json:"by_status"`
}

// Record is a finding as stored: the finding of one run, with the
// history of its fingerprint.
type Record struct {
	finding.Finding
	RunID     int64      `json:"run_id"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	FixedAt   *time.Time `json:"fixed_at,omitempty"`
}

// Filter narrows Findings; empty fields match everything.
type Filter struct {
	Target   string
	Status   finding.Status
	Severity finding.Severity // this severity and above
	Domain   string
	Rule     string
}

// Drift is what changed for the targets of a run against their previous
// state.
type Drift struct {
	RunID int64     `json:"run_id"`
	At    time.Time `json:"at"`
	// NewFailures fail now and did not at the target's previous run (or
	// are new); Fixed failed before and pass (or no longer apply) now.
	NewFailures []finding.Finding `json:"new_failures"`
	Fixed       []finding.Finding `json:"fixed"`
	NewPorts    []PortChange      `json:"new_ports"`
	Expiring    []CertExpiry      `json:"expiring"`
	// FirstRun lists targets seen for the first time (their findings are
	// the baseline and are not in NewFailures).
	FirstRun []string `json:"first_run"`
}

// PortChange is a port open now that was not before.
type PortChange struct {
	Target string `json:"target"`
	Port   int    `json:"port"`
}

// CertExpiry is a certificate that expires within the warning window.
type CertExpiry struct {
	Target   string    `json:"target"`
	Subject  string    `json:"subject"`
	SHA256   string    `json:"sha256"`
	NotAfter time.Time `json:"not_after"`
	Days     int       `json:"days"`
}

// OutboxItem is one alert waiting for (or past) delivery to one destination.
type OutboxItem struct {
	ID          int64  `json:"id"`
	Destination string `json:"destination"`
	// Key is the idempotency key: the same event to the same destination
	// is enqueued once, and receivers can drop repeats by it.
	Key         string     `json:"key"`
	Kind        string     `json:"kind"`
	Body        []byte     `json:"body"`
	CreatedAt   time.Time  `json:"created_at"`
	Attempts    int        `json:"attempts"`
	NextAttempt time.Time  `json:"next_attempt"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}

// OutboxStats counts the outbox.
type OutboxStats struct {
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	// Retrying are pending items that failed at least once.
	Retrying int `json:"retrying"`
}

// User is a dashboard account.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	Admin        bool
	CreatedAt    time.Time
}

// Token is an API token (only its keyed hash is stored).
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
}

// HealthSample is one health check of one endpoint.
type HealthSample struct {
	Target    string    `json:"target"`
	URL       string    `json:"url"`
	At        time.Time `json:"at"`
	Status    int       `json:"status"`
	OK        bool      `json:"ok"`
	LatencyMS int64     `json:"latency_ms"`
	// Anomaly is true when the response time was far above its baseline.
	Anomaly bool   `json:"anomaly"`
	Error   string `json:"error,omitempty"`
}
