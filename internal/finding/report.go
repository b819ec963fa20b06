package finding

import (
	"errors"
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
	// Spilled, when set, holds the findings instead of Findings (which is
	// then empty): a fleet scan keeps them in a temporary file. Read them
	// with Each; Load brings them into Findings.
	Spilled *Spill `json:"-"`
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
	s := emptySummary()
	for i := range fs {
		s.add(&fs[i])
	}
	return s
}

func emptySummary() Summary {
	s := Summary{ByStatus: map[Status]int{}, BySeverity: map[string]int{}}
	for _, st := range Statuses() {
		s.ByStatus[st] = 0
	}
	for _, sev := range Severities() {
		s.BySeverity[sev.String()] = 0
	}
	return s
}

func (s *Summary) add(f *Finding) {
	s.Total++
	s.ByStatus[f.Status]++
	if f.Status == Fail {
		s.BySeverity[f.Severity.String()]++
	}
}

// less is the report's order of findings: by target, rule ID, then
// fingerprint.
func less(a, b *Finding) bool {
	if a.Target != b.Target {
		return a.Target < b.Target
	}
	if a.RuleID != b.RuleID {
		return a.RuleID < b.RuleID
	}
	return a.Fingerprint < b.Fingerprint
}

// Sort orders findings by target, then rule ID, then fingerprint, and
// sorts targets by name, so reports are byte-for-byte reproducible.
func (r *Report) Sort() {
	sort.SliceStable(r.Targets, func(i, j int) bool { return r.Targets[i].Name < r.Targets[j].Name })
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
	if r.Spilled != nil {
		dup, err := r.Spilled.seal()
		if err == nil && !dup {
			sort.SliceStable(r.Targets, func(i, j int) bool { return r.Targets[i].Name < r.Targets[j].Name })
			r.Summary = r.Spilled.summaryCopy()
			scores := r.Spilled.scores()
			for i := range r.Targets {
				sc, ok := scores[r.Targets[i].Name]
				if !ok {
					sc = ScoreOf(nil)
				}
				r.Targets[i].Score = sc
			}
			return
		}
		// Two targets' findings under one name (or the file failed: Err
		// says so): sort them as a whole, as without a spill.
		_ = r.Load()
	}
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
	out.Spilled = nil
	out.Findings = make([]Finding, 0, len(r.Findings))
	_ = r.Each(func(f *Finding) error {
		if keep[f.Severity] {
			out.Findings = append(out.Findings, *f)
		}
		return nil
	})
	out.Summary = Summarize(out.Findings)
	return &out
}

// Failing returns the failing findings at or above threshold.
func (r *Report) Failing(threshold Severity) []Finding {
	var out []Finding
	_ = r.Each(func(f *Finding) error {
		if f.Status == Fail && f.Severity >= threshold {
			out = append(out, *f)
		}
		return nil
	})
	return out
}

// HasStatus reports whether any finding has status s.
func (r *Report) HasStatus(s Status) bool {
	found := false
	_ = r.Each(func(f *Finding) error {
		if f.Status == s {
			found = true
			return errFound
		}
		return nil
	})
	return found
}

var errFound = errors.New("found")

// Each calls fn with every finding in the report's order, from Findings
// or the spill. It stops at fn's first error and returns it, or the
// spill's (then Err says so too).
func (r *Report) Each(fn func(*Finding) error) error {
	if r.Spilled != nil {
		return r.Spilled.Each(fn)
	}
	for i := range r.Findings {
		if err := fn(&r.Findings[i]); err != nil {
			return err
		}
	}
	return nil
}

// Count is the number of findings.
func (r *Report) Count() int {
	if r.Spilled != nil {
		return r.Spilled.Len()
	}
	return len(r.Findings)
}

// Load brings spilled findings into Findings (for the renderers that need
// them all at once) and releases the spill.
func (r *Report) Load() error {
	sp := r.Spilled
	if sp == nil {
		return nil
	}
	fs := make([]Finding, 0, sp.Len())
	err := sp.Each(func(f *Finding) error {
		fs = append(fs, *f)
		return nil
	})
	if err != nil {
		return err
	}
	r.Findings = fs
	r.Spilled = nil
	return sp.Close()
}

// Err is the error that made spilled findings incomplete, if any: such a
// report must not be trusted (nor pass).
func (r *Report) Err() error {
	if r.Spilled == nil {
		return nil
	}
	return r.Spilled.Err()
}

// Close releases the spill, if any.
func (r *Report) Close() error {
	return r.Spilled.Close()
}
