package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
)

// Event is one alert, as the generic JSON payload carries it.
type Event struct {
	// Key is the idempotency key: the same event always has the same key,
	// so a receiver can drop repeats.
	Key      string    `json:"idempotency_key"`
	Kind     string    `json:"kind"`
	At       time.Time `json:"at"`
	Severity string    `json:"severity,omitempty"`
	Target   string    `json:"target"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	RunID    int64     `json:"run_id,omitempty"`
	// Finding alerts. FirstRun marks a failure found on a target's first
	// scan (sent only with alerts.on_first_run: failures).
	FirstRun    bool   `json:"first_run,omitempty"`
	Rule        string `json:"rule,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Remediation string `json:"remediation,omitempty"`
	// New open port.
	Port int `json:"port,omitempty"`
	// Expiring certificate.
	Certificate string     `json:"certificate,omitempty"`
	NotAfter    *time.Time `json:"not_after,omitempty"`
	// Health alerts.
	URL       string `json:"url,omitempty"`
	LatencyMS int64  `json:"latency_ms,omitempty"`
	// Link points at the dashboard page that shows it, when known.
	Link string `json:"link,omitempty"`
}

// key hashes the parts that identify an event.
func key(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return parts[0] + "-" + hex.EncodeToString(h[:12])
}

// FromDrift turns a run's drift into events.
func FromDrift(d store.Drift) []Event {
	var out []Event
	run := fmt.Sprint(d.RunID)
	for _, f := range d.NewFailures {
		out = append(out, Event{Key: key(KindNewFailure, f.Fingerprint, run), Kind: KindNewFailure, At: d.At, Severity: f.Severity.String(),
			Target: f.Target, Rule: f.RuleID, Fingerprint: f.Fingerprint, RunID: d.RunID,
			Title: fmt.Sprintf("%s now fails on %s: %s", f.RuleID, f.Target, f.Title), Message: f.Message, Remediation: f.Remediation})
	}
	for _, f := range d.Fixed {
		out = append(out, Event{Key: key(KindFixed, f.Fingerprint, run), Kind: KindFixed, At: d.At, Severity: f.Severity.String(),
			Target: f.Target, Rule: f.RuleID, Fingerprint: f.Fingerprint, RunID: d.RunID,
			Title: fmt.Sprintf("%s fixed on %s: %s", f.RuleID, f.Target, f.Title), Message: f.Message})
	}
	for _, p := range d.NewPorts {
		out = append(out, Event{Key: key(KindNewPort, p.Target, fmt.Sprint(p.Port), run), Kind: KindNewPort, At: d.At, Severity: "medium",
			Target: p.Target, Port: p.Port, RunID: d.RunID,
			Title: fmt.Sprintf("new open port %d on %s", p.Port, p.Target), Message: fmt.Sprintf("port %d is open now and was not at the previous scan", p.Port)})
	}
	for _, c := range d.Expiring {
		na := c.NotAfter
		// One alert per certificate: later runs repeat the same key.
		out = append(out, Event{Key: key(KindCertExpiring, c.Target, c.SHA256), Kind: KindCertExpiring, At: d.At, Severity: "high",
			Target: c.Target, Certificate: c.Subject, NotAfter: &na, RunID: d.RunID,
			Title: certTitle(c.Target, c.Days), Message: fmt.Sprintf("%s expires on %s", c.Subject, na.Format(time.DateOnly))})
	}
	return out
}

// FromFirstRun turns the failing findings of targets scanned for the
// first time into new_failure events marked first_run. A first run is
// otherwise a baseline: FromDrift raises nothing for it.
func FromFirstRun(d store.Drift) []Event {
	var out []Event
	run := fmt.Sprint(d.RunID)
	for _, f := range d.FirstRunFailures {
		out = append(out, Event{Key: key(KindNewFailure, f.Fingerprint, run), Kind: KindNewFailure, At: d.At, Severity: f.Severity.String(),
			Target: f.Target, Rule: f.RuleID, Fingerprint: f.Fingerprint, RunID: d.RunID, FirstRun: true,
			Title: fmt.Sprintf("%s fails on %s (first scan): %s", f.RuleID, f.Target, f.Title), Message: f.Message, Remediation: f.Remediation})
	}
	return out
}

// HealthDown is the event for an endpoint that stopped answering well;
// since is when the outage began (one alert per outage).
func HealthDown(target, url string, since time.Time, status int, reason string) Event {
	msg := reason
	if msg == "" {
		msg = fmt.Sprintf("answered %d", status)
	}
	return Event{Key: key(KindHealthDown, url, fmt.Sprint(since.UnixMilli())), Kind: KindHealthDown, At: since, Severity: "high",
		Target: target, URL: url, Title: "health endpoint down: " + url, Message: msg}
}

// HealthSlow is the event for a response far above its baseline.
func HealthSlow(target, url string, at time.Time, latency, baseline time.Duration) Event {
	return Event{Key: key(KindHealthSlow, url, fmt.Sprint(at.UnixMilli())), Kind: KindHealthSlow, At: at, Severity: "medium",
		Target: target, URL: url, LatencyMS: latency.Milliseconds(), Title: "health endpoint slow: " + url,
		Message: fmt.Sprintf("answered in %d ms; its recent median is %d ms", latency.Milliseconds(), baseline.Milliseconds())}
}

// Scope makes an event's idempotency key unique to one installation:
// two servers that see the same drift (or a restored copy beside its
// original) never send a receiver the same key for different deliveries.
// The same event on the same installation keeps one key.
func Scope(installation, key string) string {
	kind, _, _ := strings.Cut(key, "-")
	h := sha256.Sum256([]byte("rampart/alert-key/v2\x00" + installation + "\x00" + key))
	return kind + "-" + hex.EncodeToString(h[:12])
}

// Route makes outbox items of events for every destination that wants
// them, their keys scoped to the installation (its ID).
func Route(events []Event, dests []Destination, installation string) []store.OutboxItem {
	var out []store.OutboxItem
	for _, e := range events {
		e.Key = Scope(installation, e.Key)
		body, err := json.Marshal(e)
		if err != nil {
			continue
		}
		for i := range dests {
			if !dests[i].Accepts(e) {
				continue
			}
			out = append(out, store.OutboxItem{Destination: dests[i].Name, Key: e.Key, Kind: e.Kind, Body: body, CreatedAt: e.At})
		}
	}
	return out
}

// certTitle words an expiry: "expires in 12 days", or "expired 3 days
// ago" for a certificate already past it.
func certTitle(target string, days int) string {
	switch {
	case days < -1:
		return fmt.Sprintf("certificate of %s expired %d days ago", target, -days)
	case days == -1:
		return fmt.Sprintf("certificate of %s expired 1 day ago", target)
	case days == 0:
		return fmt.Sprintf("certificate of %s expires today", target)
	}
	return fmt.Sprintf("certificate of %s expires in %d days", target, days)
}
