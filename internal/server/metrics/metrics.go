// Package metrics keeps the server's Prometheus metrics and writes them
// in the text exposition format (version 0.0.4): fleet findings by status
// and severity, scan durations, health endpoint latency, alert deliveries.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

var scanBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800}

// Metrics holds what happens in the process; fleet state is read from
// the store at scrape time.
type Metrics struct {
	mu       sync.Mutex
	scans    map[[2]string]float64 // source, result -> count
	scanHist map[string]*histogram // source -> durations
	lastScan map[string]float64    // source -> unix seconds
	latency  map[[2]string]float64 // target, url -> seconds
	up       map[[2]string]float64
	anomaly  map[[2]string]float64
	alerts   map[[3]string]float64 // destination, kind, result
	uploads  float64
}

type histogram struct {
	counts []float64
	sum    float64
	n      float64
}

// New returns empty metrics.
func New() *Metrics {
	return &Metrics{
		scans: map[[2]string]float64{}, scanHist: map[string]*histogram{}, lastScan: map[string]float64{},
		latency: map[[2]string]float64{}, up: map[[2]string]float64{}, anomaly: map[[2]string]float64{},
		alerts: map[[3]string]float64{},
	}
}

// ScanDone records a finished scan.
func (m *Metrics) ScanDone(source string, d time.Duration, ok bool, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	res := "ok"
	if !ok {
		res = "error"
	}
	m.scans[[2]string{source, res}]++
	h := m.scanHist[source]
	if h == nil {
		h = &histogram{counts: make([]float64, len(scanBuckets))}
		m.scanHist[source] = h
	}
	s := d.Seconds()
	for i, b := range scanBuckets {
		if s <= b {
			h.counts[i]++
		}
	}
	h.sum += s
	h.n++
	m.lastScan[source] = float64(at.Unix())
}

// Health records a health sample.
func (m *Metrics) Health(s store.HealthSample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{s.Target, s.URL}
	m.latency[k] = float64(s.LatencyMS) / 1000
	m.up[k] = b(s.OK)
	m.anomaly[k] = b(s.Anomaly)
}

// Alert records a delivery attempt's result: delivered, failed (to be
// retried) or dead (moved to the dead letters).
func (m *Metrics) Alert(dest, kind, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alerts[[3]string{dest, kind, result}]++
}

// Upload records an uploaded report.
func (m *Metrics) Upload() {
	m.mu.Lock()
	m.uploads++
	m.mu.Unlock()
}

func b(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// Fleet is the state read from the store at scrape time.
type Fleet struct {
	// Targets, when not nil, are written one series per target and status
	// (rampart_target_findings) and per target (its last scan): eight
	// series a target, which a fleet of thousands makes a scrape of tens
	// of thousands of series, so they are asked for (metrics.per_target).
	Targets []store.TargetState
	// Counts, when set, are the fleet's totals (else summed from Targets).
	Counts *store.FleetCounts
	Outbox store.OutboxStats
	// Failures are the failing findings per rule and severity, with how
	// many are past their severity's SLA.
	Failures []store.RuleFailures
}

// Write writes every metric.
func (m *Metrics) Write(w io.Writer, f Fleet) error {
	bw := bufio.NewWriter(w)
	m.mu.Lock()
	defer m.mu.Unlock()

	byStatus := map[finding.Status]int{}
	bySev := map[string]int{}
	header(bw, "rampart_findings", "gauge", "Findings of every target's latest run, by status.")
	if f.Counts != nil {
		byStatus, bySev = f.Counts.ByStatus, f.Counts.FailBySeverity
	}
	for _, t := range f.Targets {
		if f.Counts != nil {
			break
		}
		for st, n := range t.ByStatus {
			byStatus[st] += n
		}
		for sev, n := range t.FailBySeverity {
			bySev[sev] += n
		}
	}
	for _, st := range finding.Statuses() {
		sample(bw, "rampart_findings", labels("status", string(st)), float64(byStatus[st]))
	}
	header(bw, "rampart_failing_findings", "gauge", "Failing findings of every target's latest run, by severity.")
	for _, sev := range finding.Severities() {
		sample(bw, "rampart_failing_findings", labels("severity", sev.String()), float64(bySev[sev.String()]))
	}
	overdue := map[finding.Severity]int{}
	for _, rf := range f.Failures {
		overdue[rf.Severity] += rf.Overdue
	}
	header(bw, "rampart_overdue_findings", "gauge", "Failing findings past the SLA of their severity (days allowed, sla: in the configuration).")
	for _, sev := range finding.Severities() {
		sample(bw, "rampart_overdue_findings", labels("severity", sev.String()), float64(overdue[sev]))
	}
	if f.Counts != nil {
		header(bw, "rampart_targets", "gauge", "Targets known (scanned at least once and not pruned).")
		sample(bw, "rampart_targets", "", float64(f.Counts.Targets))
		header(bw, "rampart_failing_targets", "gauge", "Targets whose latest run has failing findings.")
		sample(bw, "rampart_failing_targets", "", float64(f.Counts.FailingTargets))
		if !f.Counts.OldestScan.IsZero() {
			header(bw, "rampart_oldest_target_scan_timestamp_seconds", "gauge", "The earliest of the targets' last scans: when the least recently scanned target was scanned.")
			sample(bw, "rampart_oldest_target_scan_timestamp_seconds", "", float64(f.Counts.OldestScan.Unix()))
		}
	}
	if f.Targets != nil {
		writeTargets(bw, f.Targets)
	}

	header(bw, "rampart_scans_total", "counter", "Scans run by this process, by source and result.")
	for _, k := range sortedKeys2(m.scans) {
		sample(bw, "rampart_scans_total", labels("source", k[0], "result", k[1]), m.scans[k])
	}
	header(bw, "rampart_scan_duration_seconds", "histogram", "How long scans took.")
	srcs := make([]string, 0, len(m.scanHist))
	for s := range m.scanHist {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		h := m.scanHist[s]
		for i, bk := range scanBuckets {
			sample(bw, "rampart_scan_duration_seconds_bucket", labels("source", s, "le", fmtFloat(bk)), h.counts[i])
		}
		sample(bw, "rampart_scan_duration_seconds_bucket", labels("source", s, "le", "+Inf"), h.n)
		sample(bw, "rampart_scan_duration_seconds_sum", labels("source", s), h.sum)
		sample(bw, "rampart_scan_duration_seconds_count", labels("source", s), h.n)
	}
	header(bw, "rampart_last_scan_timestamp_seconds", "gauge", "When the last scan of a source finished.")
	for _, s := range sortedKeys1(m.lastScan) {
		sample(bw, "rampart_last_scan_timestamp_seconds", labels("source", s), m.lastScan[s])
	}

	header(bw, "rampart_endpoint_latency_seconds", "gauge", "Response time of the last health check.")
	for _, k := range sortedKeys2(m.latency) {
		sample(bw, "rampart_endpoint_latency_seconds", labels("target", k[0], "url", k[1]), m.latency[k])
	}
	header(bw, "rampart_endpoint_up", "gauge", "1 when the last health check answered 2xx.")
	for _, k := range sortedKeys2(m.up) {
		sample(bw, "rampart_endpoint_up", labels("target", k[0], "url", k[1]), m.up[k])
	}
	header(bw, "rampart_endpoint_anomaly", "gauge", "1 when the last response time was far above its baseline.")
	for _, k := range sortedKeys2(m.anomaly) {
		sample(bw, "rampart_endpoint_anomaly", labels("target", k[0], "url", k[1]), m.anomaly[k])
	}

	header(bw, "rampart_alert_deliveries_total", "counter", "Alert delivery attempts, by destination, kind and result (delivered, failed, dead).")
	keys3 := make([][3]string, 0, len(m.alerts))
	for k := range m.alerts {
		keys3 = append(keys3, k)
	}
	sort.Slice(keys3, func(i, j int) bool { return strings.Join(keys3[i][:], "\x00") < strings.Join(keys3[j][:], "\x00") })
	for _, k := range keys3 {
		sample(bw, "rampart_alert_deliveries_total", labels("destination", k[0], "kind", k[1], "result", k[2]), m.alerts[k])
	}
	header(bw, "rampart_alert_outbox", "gauge", "Alerts in the outbox, by state.")
	sample(bw, "rampart_alert_outbox", labels("state", "pending"), float64(f.Outbox.Pending))
	sample(bw, "rampart_alert_outbox", labels("state", "retrying"), float64(f.Outbox.Retrying))
	sample(bw, "rampart_alert_outbox", labels("state", "delivered"), float64(f.Outbox.Delivered))
	sample(bw, "rampart_alert_outbox", labels("state", "dead"), float64(f.Outbox.Dead))
	sample(bw, "rampart_alert_outbox", labels("state", "discarded"), float64(f.Outbox.Discarded))
	header(bw, "rampart_alert_dead_letters", "gauge", "Alerts given up on (a permanent error, a removed destination, or the retry window over), waiting for an admin to retry or discard them, by destination.")
	dests := make([]string, 0, len(f.Outbox.DeadBy))
	for d := range f.Outbox.DeadBy {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		sample(bw, "rampart_alert_dead_letters", labels("destination", d), float64(f.Outbox.DeadBy[d]))
	}
	header(bw, "rampart_uploads_total", "counter", "Reports uploaded through the API.")
	sample(bw, "rampart_uploads_total", "", m.uploads)
	return bw.Flush()
}

// writeTargets writes the per-target series.
func writeTargets(bw *bufio.Writer, ts []store.TargetState) {
	header(bw, "rampart_target_findings", "gauge", "Findings of a target's latest run, by status.")
	// Seven lines a target, tens of thousands in a fleet: written without
	// formatting each (the same text as sample and labels make).
	statuses := finding.Statuses()
	var num [20]byte
	for _, t := range ts {
		lbl := `{target="` + escapeLabel(t.Name) + `",status="`
		for _, st := range statuses {
			bw.WriteString("rampart_target_findings")
			bw.WriteString(lbl)
			bw.WriteString(string(st))
			bw.WriteString(`"} `)
			bw.Write(strconv.AppendInt(num[:0], int64(t.ByStatus[st]), 10))
			bw.WriteByte('\n')
		}
	}
	header(bw, "rampart_target_last_scan_timestamp_seconds", "gauge", "When a target was last scanned.")
	for _, t := range ts {
		sample(bw, "rampart_target_last_scan_timestamp_seconds", labels("target", t.Name), float64(t.LastSeen.Unix()))
	}
}

func header(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func sample(w io.Writer, name, lbls string, v float64) {
	fmt.Fprintf(w, "%s%s %s\n", name, lbls, fmtFloat(v))
}

func fmtFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// labels renders {k="v",...} from name, value pairs.
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(escapeLabel(kv[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func sortedKeys2(m map[[2]string]float64) [][2]string {
	out := make([][2]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

func sortedKeys1(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// escapeLabel escapes a label value as the exposition format wants:
// backslash, double quote and newline.
func escapeLabel(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
