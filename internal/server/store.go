package server

import (
	"context"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/monitor"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
)

// Store is what the server needs of its database: the small interfaces of
// the code that uses each part, each defined beside that code (history
// here, for the pages and the API; comparer in diff.go; runKeeper in
// scanjob.go; alertAdmin in handlers_alerts.go; accounts in
// handlers_users.go; settings in server.go), and what the parts the server
// starts need of it (the alert dispatcher's outbox, the health checker's
// samples, sessions, the first admin's setup). *store.SQL is one.
type Store interface {
	history
	comparer
	runKeeper
	alertAdmin
	accounts
	settings
	alert.Outbox
	monitor.Samples
	auth.SessionStore
	auth.SetupStore
	Close() error
}

// history is what the dashboard's pages and the API read: runs, targets,
// the latest findings and the counts kept of them, health samples.
type history interface {
	Runs(ctx context.Context, limit int, beforeID int64) ([]store.Run, error)
	Run(ctx context.Context, id int64) (store.Run, error)
	RunFindings(ctx context.Context, runID int64, target string) ([]store.Record, error)
	RunFindingsPage(ctx context.Context, runID int64, target, afterCursor string, limit, offset int) ([]store.Record, error)
	RunTargets(ctx context.Context, runID int64) ([]store.RunTarget, error)
	RunTarget(ctx context.Context, runID int64, name string) (store.RunTarget, error)
	RunTargetsPage(ctx context.Context, runID int64, afterName string, limit int) ([]store.RunTarget, error)
	Target(ctx context.Context, name string) (store.TargetState, error)
	TargetList(ctx context.Context, f store.TargetFilter) ([]store.TargetState, int, error)
	TargetHistory(ctx context.Context, name string, limit int) ([]store.TargetRun, error)
	TargetStatuses(ctx context.Context) ([]store.TargetState, error)
	Findings(ctx context.Context, f store.Filter) ([]store.Record, error)
	CountFindings(ctx context.Context, f store.Filter) (int, error)
	RuleFailures(ctx context.Context, overdueBefore map[finding.Severity]time.Time) ([]store.RuleFailures, error)
	FleetCounts(ctx context.Context) (store.FleetCounts, error)
	HealthHistory(ctx context.Context, url string, limit int) ([]store.HealthSample, error)
	LatestHealth(ctx context.Context) ([]store.HealthSample, error)
}

// Pinger is a store that can tell whether its database answers (the
// health endpoint asks, when the store can).
type Pinger interface {
	Ping(ctx context.Context) error
}
