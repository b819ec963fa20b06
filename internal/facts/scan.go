package facts

import "time"

// Scan holds how this scan runs: the clock rules read (injected, so results
// are reproducible), whether active checks were allowed, and thresholds the
// user may tune.
type Scan struct {
	Now time.Time `json:"now"`
	// Intrusive is true when the user allowed active checks such as a login
	// attempt with default credentials.
	Intrusive bool `json:"intrusive"`
	// CertWarnDays: a certificate expiring sooner than this fails KEY-006.
	CertWarnDays int `json:"cert_warn_days"`
	// BackupMaxAgeDays: the newest backup must be younger than this.
	BackupMaxAgeDays int `json:"backup_max_age_days"`
	// HealthMaxLatencyMS: a health endpoint slower than this fails.
	HealthMaxLatencyMS int `json:"health_max_latency_ms"`
}

// DefaultScan returns the thresholds rampart uses unless told otherwise.
func DefaultScan(now time.Time) Scan {
	return Scan{Now: now, CertWarnDays: 30, BackupMaxAgeDays: 7, HealthMaxLatencyMS: 2000}
}

// NamespaceSpec says that scan facts come from how the scan runs: on every target.
func (Scan) NamespaceSpec() Spec { return Spec{} }
