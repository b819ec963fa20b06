package finding

import (
	"sort"
	"time"
)

// SchemaVersion is the version of the JSON report format
// (schema/report.schema.json). Bump it when a field changes meaning or is
// removed; adding a field does not need a bump.
const SchemaVersion = "1.0.0"

// Report is the result of one scan of one or more targets.
type Report struct {
	SchemaVersion string       `json:"schemaVersion"`
	Tool          Tool         `json:"tool"`
	StartedAt     time.Time    `json:"startedAt"`
	FinishedAt    time.Time    `json:"finishedAt"`
	Targets       []TargetInfo `json:"targets"`
	Findings      []Finding    `json:"findings"`
	Summary       Summary      `json:"summary"`
	// Interrupted is true when the scan was stopped before every target
	// finished; the report holds what did.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Tool names the scanner.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	URI     string `json:"informationUri,omitempty"`
}

// TargetInfo describes one scanned target.
type TargetInfo struct {
	Name string `json:"name"`
	// ID is the target's identity: a directory's cleaned absolute path, an
	// endpoint's host:port, an inventory entry's name. Findings are
	// fingerprinted by it and `rampart diff` matches targets on it.
	ID string `json:"id,omitempty"`
	// Dir is a directory target's cleaned absolute path: its ID too,
	// unless an inventory entry names it.
	Dir      string   `json:"dir,omitempty"`
	Kind     string   `json:"kind"`
	Profiles []string `json:"profiles"`
	// Product and Version when a product was detected.
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Role    string `json:"role,omitempty"`
	// Parent is the target this one was discovered from (a product home
	// found on a host, a service found on a node).
	Parent string `json:"parent,omitempty"`
	// Errors are collector failures on this target.
	Errors []string `json:"errors,omitempty"`
	// OpenPorts are the open TCP ports a port scan of a node found, as
	// port/service ("9443/https"), ascending: what this vantage point
	// reaches (rampart diff compares them between reports).
	OpenPorts []string `json:"openPorts,omitempty"`
	// Score is the target's hardening score (see ScoreOf); absent when no
	// automated rule could be judged on it.
	Score *Score `json:"score,omitempty"`
}

// Summary counts findings.
type Summary struct {
	Total      int            `json:"total"`
	ByStatus   map[Status]int `json:"byStatus"`
	BySeverity map[string]int `json:"failingBySeverity"`
}

// Summarize counts findings by status, and failing findings by severity.
func Summarize(fs []Finding) Summary {
	s := Summary{Total: len(fs), ByStatus: map[Status]int{}, BySeverity: map[string]int{}}
	for _, st := range Statuses() {
		s.ByStatus[st] = 0
	}
	for _, sev := range Severities() {
		s.BySeverity[sev.String()] = 0
	}
	for _, f := range fs {
		s.ByStatus[f.Status]++
		if f.Status == Fail {
			s.BySeverity[f.Severity.String()]++
		}
	}
	return s
}

// Sort orders findings by target, then rule ID, then fingerprint, and
// sorts targets by name, so reports are byte-for-byte reproducible.
func (r *Report) Sort() {
	sort.SliceStable(r.Targets, func(i, j int) bool { return r.Targets[i].Name < r.Targets[j].Name })
	less := func(a, b *Finding) bool {
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Fingerprint < b.Fingerprint
	}
	// A scan's findings mostly come in order already: checking costs one
	// pass, moving a fleet's findings about costs far more.
	sorted := true
	for i := 1; i < len(r.Findings) && sorted; i++ {
		sorted = !less(&r.Findings[i], &r.Findings[i-1])
	}
	if !sorted {
		sort.SliceStable(r.Findings, func(i, j int) bool { return less(&r.Findings[i], &r.Findings[j]) })
	}
}

// Finalize sorts the report, recomputes its summary and scores its
// targets.
func (r *Report) Finalize() {
	r.Sort()
	r.Summary = Summarize(r.Findings)
	// Sorted by target: each target's findings are one run of them.
	byTarget := map[string][]Finding{}
	for i := 0; i < len(r.Findings); {
		j := i + 1
		for j < len(r.Findings) && r.Findings[j].Target == r.Findings[i].Target {
			j++
		}
		byTarget[r.Findings[i].Target] = r.Findings[i:j:j]
		i = j
	}
	for i := range r.Targets {
		r.Targets[i].Score = ScoreOf(byTarget[r.Targets[i].Name])
	}
}

// OnlySeverities returns a copy of the report that holds only the findings
// of the given severities (all when none is given), with its summary
// recomputed. Targets keep the scores of the whole scan: a display filter
// changes what is shown, not the verdict.
func (r *Report) OnlySeverities(sevs []Severity) *Report {
	if len(sevs) == 0 {
		return r
	}
	keep := map[Severity]bool{}
	for _, s := range sevs {
		keep[s] = true
	}
	out := *r
	out.Findings = make([]Finding, 0, len(r.Findings))
	for _, f := range r.Findings {
		if keep[f.Severity] {
			out.Findings = append(out.Findings, f)
		}
	}
	out.Summary = Summarize(out.Findings)
	return &out
}

// Failing returns the failing findings at or above threshold.
func (r *Report) Failing(threshold Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Status == Fail && f.Severity >= threshold {
			out = append(out, f)
		}
	}
	return out
}

// HasStatus reports whether any finding has status s.
func (r *Report) HasStatus(s Status) bool {
	for _, f := range r.Findings {
		if f.Status == s {
			return true
		}
	}
	return false
}
