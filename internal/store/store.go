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
	"errors"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// ErrNotFound is returned when a run, target, user or setting does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a user name is taken.
var ErrExists = errors.New("already exists")

// ErrLastAdmin is returned for a change that would leave no enabled admin
// who can sign in.
var ErrLastAdmin = errors.New("the last admin cannot be disabled, deleted, demoted or reset")

// ErrNotFirst is returned by CreateFirstAdmin once any user exists.
var ErrNotFirst = errors.New("a user exists already")

// RunDelta is what differs between two runs: for each fingerprint whose
// finding changed between them, its version at the first (Before) and at
// the second (After); and how many failing findings stayed the same.
type RunDelta struct {
	Before, After []Record
	// StillFailing counts the failing findings unchanged from a to b.
	StillFailing int
}

// FleetCounts are the latest findings of every target counted by status,
// the failing ones by severity and domain, and the targets.
type FleetCounts struct {
	ByStatus       map[finding.Status]int `json:"by_status"`
	FailBySeverity map[string]int         `json:"fail_by_severity"`
	FailByDomain   map[string]int         `json:"fail_by_domain"`
	Targets        int                    `json:"targets"`
	FailingTargets int                    `json:"failing_targets"`
	// OldestScan is the earliest of the targets' last scans (zero
	// without targets): how stale the least recently scanned target is.
	OldestScan time.Time `json:"oldest_scan,omitzero"`
}

// RuleFailures are the failing findings of one rule at one severity.
type RuleFailures struct {
	Rule     string           `json:"rule"`
	Severity finding.Severity `json:"severity"`
	Failing  int              `json:"failing"`
	Overdue  int              `json:"overdue"`
	Oldest   time.Time        `json:"failing_since"`
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
	// Audit, when set, is recorded with the run (its Subject, when empty,
	// names the run).
	Audit *Audit
	// Jobs are the zone jobs whose results the run holds; each is stored
	// once (SaveRun fails with ErrDuplicateJob otherwise).
	Jobs []JobClaim
	// Reach are the zones' observations of the jobs' targets, stored
	// in the run's transaction (as SaveReach stores them).
	Reach []ZoneReach
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
	// FailingSince is when the finding last started to fail (kept once it
	// is fixed: FixedAt minus FailingSince is the time it took to fix).
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// since is the age sort's key (Unix ms) of a latest finding.
	since int64
	// span is the version's row (set by DeltaKeys, for LoadRecords).
	span int64
}

// Filter narrows Findings; empty fields match everything.
type Filter struct {
	Target   string
	Status   finding.Status
	Severity finding.Severity // this severity and above
	Domain   string
	Rule     string
	// Zone is the target's role (the vantage point it was judged from).
	Zone string
	// Search matches part of the target name or rule ID, any case.
	Search string
	// Exceptions keeps only findings with a waiver or attestation
	// (current or expired).
	Exceptions bool
	// Sort is SortTarget (default), SortSeverity, SortRule or SortAge.
	Sort string
	// Limit (0: all) and Offset page through the findings; After, when
	// set, is the Cursor of the last finding of the previous page (keyset
	// paging: any depth costs the same) and Offset is not used.
	Limit, Offset int
	After         string
}

// TargetFilter narrows TargetList; empty fields match everything.
type TargetFilter struct {
	// Search matches part of the name, any case.
	Search string
	// Zone is the target's role.
	Zone string
	// Limit (0: all) and Offset page through the targets.
	Limit, Offset int
}

// Sort keys of Filter.
const (
	SortTarget   = "target"
	SortSeverity = "severity"
	SortRule     = "rule"
	SortAge      = "age"
)

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
	// FirstRunFailures are the failing findings of those targets (alerted
	// on only when the server is told to: alerts.on_first_run).
	FirstRunFailures []finding.Finding `json:"first_run_failures"`
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

// Outbox item states.
const (
	OutboxPending   = "pending"
	OutboxDelivered = "delivered"
	OutboxDead      = "dead"
	OutboxDiscarded = "discarded"
)

// OutboxItem is one alert waiting for (or past) delivery to one destination.
type OutboxItem struct {
	ID          int64  `json:"id"`
	Destination string `json:"destination"`
	// Key is the idempotency key: the same event to the same destination
	// is enqueued once, and receivers can drop repeats by it.
	Key       string    `json:"key"`
	Kind      string    `json:"kind"`
	Body      []byte    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	// EnqueuedAt is when the item was queued (or retried by an admin):
	// its retry window starts there. Zero means when it is stored.
	EnqueuedAt  time.Time  `json:"enqueued_at"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt time.Time  `json:"next_attempt"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	DeadAt      *time.Time `json:"dead_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}

// OutboxStats counts the outbox.
type OutboxStats struct {
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	// Retrying are pending items that failed at least once.
	Retrying int `json:"retrying"`
	// Dead are dead letters: given up on, waiting for an admin.
	Dead      int `json:"dead"`
	Discarded int `json:"discarded"`
	// DeadBy counts dead letters by destination.
	DeadBy map[string]int `json:"dead_by_destination"`
}

// User is a dashboard account.
type User struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	PasswordHash string `json:"-"`
	// Role is admin or viewer (internal/server/auth decides what each may do).
	Role      string     `json:"role"`
	Disabled  bool       `json:"disabled"`
	CreatedAt time.Time  `json:"created_at"`
	LastLogin *time.Time `json:"last_login,omitempty"`
	// InviteExpires is set while a one-time setup link (an invitation or
	// a password reset) is outstanding.
	InviteExpires *time.Time `json:"invite_expires,omitempty"`
	// OIDCIssuer and OIDCSubject are set for an account that signs in
	// through an OpenID Connect provider (it has no password).
	OIDCIssuer  string `json:"oidc_issuer,omitempty"`
	OIDCSubject string `json:"-"`
}

// Active reports whether the user can sign in with a password: enabled,
// with a password.
func (u User) Active() bool { return !u.Disabled && u.PasswordHash != "" }

// External reports whether the account signs in through an OpenID
// Connect provider.
func (u User) External() bool { return u.OIDCSubject != "" }

// ErrDisabled is returned by SignInExternal for a disabled account.
var ErrDisabled = errors.New("account disabled")

// ExternalIdentity is a person as an OpenID Connect provider vouched for
// them at sign-in.
type ExternalIdentity struct {
	Issuer, Subject string
	// Username is the account's name on the dashboard (from the
	// provider's claim); Role the role its claims map to.
	Username, Role string
	Now            time.Time
}

// NewUser is an account to create: with PasswordHash, or with a setup
// link (InviteHash, InviteExpires) through which the user chooses one.
type NewUser struct {
	Username      string
	Role          string
	PasswordHash  string
	InviteHash    string
	InviteExpires time.Time
	Now           time.Time
}

// UserChange is a change to an account; zero fields change nothing.
type UserChange struct {
	Role     string
	Disabled *bool
	// InviteHash replaces the password with a one-time setup link that
	// expires at InviteExpires (a reset): the old password stops working
	// and every session of the user ends.
	InviteHash    string
	InviteExpires time.Time
	// PasswordHash sets a new password; every session but KeepSession
	// (a session ID hash) ends.
	PasswordHash string
	KeepSession  string
}

// Token is an API token (only its keyed hash is stored). It belongs to
// the user who created it and acts with the lesser of its role and its
// owner's.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	UserID    int64      `json:"-"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	// OwnerRole is the owner's role; OwnerDisabled is true when the owner
	// is disabled (the token does not work then).
	OwnerRole     string `json:"-"`
	OwnerDisabled bool   `json:"owner_disabled,omitempty"`
	// Targets, when set, are the target name patterns (* and ?) the token
	// may upload runs for.
	Targets []string `json:"targets,omitempty"`
}

// NewToken is an API token to create.
type NewToken struct {
	Name string
	// Targets scopes an uploading token to target name patterns.
	Targets   []string
	Hash      string
	Role      string
	UserID    int64
	CreatedBy string
	Now       time.Time
}

// Audit is one entry of the audit log: who did what to what, when, from
// where.
type Audit struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is a user name, "token:NAME (OWNER)", or "system".
	Actor string `json:"actor"`
	// Action is a dotted verb: user.create, user.disable, token.revoke...
	Action  string `json:"action"`
	Subject string `json:"subject"`
	Detail  string `json:"detail,omitempty"`
	Addr    string `json:"addr,omitempty"`
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
