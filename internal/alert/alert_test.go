package alert

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

func drift() store.Drift {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f := finding.Finding{RuleID: "TLS-002", Title: "TLS 1.0 and 1.1 are not offered", Target: "gw:443", Status: finding.Fail,
		Severity: finding.High, Message: "offers TLSv1.0", Remediation: "Disable TLS 1.0.\nMore.", Fingerprint: finding.Fingerprint("gw:443", "TLS-002", "")}
	fixed := f
	fixed.RuleID, fixed.Severity, fixed.Status, fixed.Fingerprint = "HTTP-001", finding.Low, finding.Pass, finding.Fingerprint("gw:443", "HTTP-001", "")
	return store.Drift{RunID: 7, At: at, NewFailures: []finding.Finding{f}, Fixed: []finding.Finding{fixed},
		NewPorts: []store.PortChange{{Target: "10.0.0.5", Port: 9999}},
		Expiring: []store.CertExpiry{{Target: "gw:443", Subject: "CN=gw", SHA256: "aa", NotAfter: at.Add(48 * time.Hour), Days: 2}}}
}

func TestEventsAndRouting(t *testing.T) {
	evs := FromDrift(drift())
	if len(evs) != 4 {
		t.Fatalf("events = %d; want 4", len(evs))
	}
	again := FromDrift(drift())
	for i := range evs {
		if evs[i].Key != again[i].Key {
			t.Errorf("event %d key not deterministic: %s vs %s", i, evs[i].Key, again[i].Key)
		}
	}
	dests := []Destination{
		{Name: "all", URL: "https://hooks.invalid/x"},
		{Name: "severe", URL: "https://hooks.invalid/y", MinSeverity: "high", Kinds: []string{KindNewFailure, KindFixed}},
	}
	items := Route(evs, dests, "test-installation")
	per := map[string]int{}
	for _, it := range items {
		per[it.Destination]++
	}
	if per["all"] != 4 || per["severe"] != 1 {
		t.Errorf("routed = %v; want all:4 severe:1 (only the high new failure)", per)
	}
}

// A first run's failures become new_failure events marked first_run, with
// the keys a later new failure of the same run would have; FromDrift
// raises nothing for them.
func TestFirstRunEvents(t *testing.T) {
	d := drift()
	d.FirstRunFailures = d.NewFailures
	d.NewFailures, d.Fixed, d.NewPorts, d.Expiring = nil, nil, nil, nil
	if evs := FromDrift(d); len(evs) != 0 {
		t.Errorf("FromDrift raised %d events for a first run", len(evs))
	}
	evs := FromFirstRun(d)
	if len(evs) != 1 || !evs[0].FirstRun || evs[0].Kind != KindNewFailure || !strings.Contains(evs[0].Title, "(first scan)") || evs[0].Rule != "TLS-002" {
		t.Fatalf("first-run events = %+v", evs)
	}
	if evs[0].Key != FromDrift(drift())[0].Key {
		t.Error("a first-run failure's key differs from the same new failure's")
	}
	b, _ := Payload("generic", evs[0])
	if !strings.Contains(string(b), `"first_run":true`) {
		t.Errorf("generic payload lacks first_run: %s", b)
	}
	// Routed like any new failure: kind and severity filters apply.
	items := Route(evs, []Destination{{Name: "all"}, {Name: "critical", MinSeverity: "critical"}, {Name: "fixes", Kinds: []string{KindFixed}}}, "test-installation")
	if len(items) != 1 || items[0].Destination != "all" {
		t.Errorf("routed = %+v; want only the unfiltered destination", items)
	}
}

func TestDestinationValidate(t *testing.T) {
	for _, d := range []Destination{
		{Name: "a", URL: "https://hooks.slack.invalid/T/B/X", Format: "slack"},
		{Name: "b", URL: "http://127.0.0.1:9000/hook"},
	} {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", d.URL, err)
		}
	}
	for _, d := range []Destination{
		{Name: "a", URL: "http://hooks.example.invalid/"},
		{Name: "b", URL: "https://x.invalid/", Format: "teams"},
		{Name: "c", URL: "https://x.invalid/", Kinds: []string{"everything"}},
		{URL: "https://x.invalid/"},
	} {
		if err := d.Validate(); err == nil {
			t.Errorf("%+v accepted", d)
		}
	}
}

func TestSlackPayload(t *testing.T) {
	e := FromDrift(drift())[0]
	b, err := Payload("slack", e)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text == "" || len(m.Blocks) != 2 || m.Blocks[0]["type"] != "section" {
		t.Errorf("slack payload = %s", b)
	}
	g, _ := Payload("generic", e)
	var ge map[string]any
	if err := json.Unmarshal(g, &ge); err != nil || ge["schema"] != "rampart.alert/v1" || ge["idempotency_key"] != e.Key {
		t.Errorf("generic payload = %s, %v", g, err)
	}
}

// receiver is a webhook endpoint that records what arrives.
type receiver struct {
	mu       sync.Mutex
	secret   []byte
	byKey    map[string]int
	bad      int
	failNext int // answer 503 to this many requests first
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	ts, _ := strconv.ParseInt(req.Header.Get(HeaderTimestamp), 10, 64)
	if !Verify(r.secret, ts, body, req.Header.Get(HeaderSignature)) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.Key != req.Header.Get(HeaderKey) {
		r.bad++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.byKey[e.Key]++
	w.WriteHeader(http.StatusNoContent)
}

// A receiver that is down, then flaky, then up: every alert arrives,
// signed, each with its idempotency key; none is lost.
func TestDeliveryWhileDestinationIsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Reserve a loopback port, then leave it closed: the receiver is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	rcv := &receiver{secret: []byte("s3cret"), byKey: map[string]int{}, failNext: 2}
	srv := httptest.NewUnstartedServer(rcv)
	srv.StartTLS() // gives us a certificate; we restart it on addr below
	srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := Destination{Name: "rcv", URL: "https://" + addr + "/hook", SecretFile: "", Secret: "s3cret", CAFile: caFile}
	if err := dest.Validate(); err != nil {
		t.Fatal(err)
	}
	wh, err := NewWebhook(dest, []byte(dest.Secret), "rampart-test")
	if err != nil {
		t.Fatal(err)
	}
	items := Route(FromDrift(drift()), []Destination{dest}, "test-installation")
	if _, err := st.Enqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	// The dispatcher's clock is the test's: retries come due when the
	// test moves it past the backoff, and each pass is a Flush the test
	// makes, so nothing waits for time to pass.
	clock := time.Now()
	d := &Dispatcher{Store: st, Destinations: map[string]Deliverer{"rcv": wh}, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Now: func() time.Time { return clock }}
	if n := d.Flush(ctx); n != 0 {
		t.Fatalf("delivered %d while the receiver is down", n)
	}
	stats, _ := st.OutboxStats(ctx)
	if stats.Pending != len(items) || stats.Retrying == 0 {
		t.Fatalf("outbox while down = %+v; want %d pending, retrying", stats, len(items))
	}

	// Bring the receiver up on the same address with the same certificate.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rcv, TLSConfig: &tls.Config{Certificates: srv.TLS.Certificates}}
	go hs.ServeTLS(ln, "", "")
	defer hs.Close()

	passes := 0
	for ; passes < 10; passes++ {
		stats, err := st.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Pending == 0 {
			break
		}
		if n := d.Flush(ctx); n == 0 {
			// Nothing was due yet, or the receiver failed this pass.
			clock = clock.Add(time.Minute) // past any backoff (at most 120 ms)
		}
	}
	if stats, _ := st.OutboxStats(ctx); stats.Pending != 0 {
		t.Fatalf("outbox not drained after %d passes: %+v", passes, stats)
	}
	if passes < 3 {
		t.Errorf("drained in %d passes; the receiver failed the first two deliveries", passes)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.bad != 0 {
		t.Errorf("%d deliveries had a bad signature or body", rcv.bad)
	}
	if len(rcv.byKey) != len(items) {
		t.Errorf("received %d distinct alerts; want %d", len(rcv.byKey), len(items))
	}
	for _, it := range items {
		if rcv.byKey[it.Key] == 0 {
			t.Errorf("alert %s (%s) lost", it.Key, it.Kind)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	d := &Dispatcher{BaseBackoff: time.Second, MaxBackoff: 30 * time.Second}
	prev := time.Duration(0)
	for a := 1; a <= 4; a++ {
		b := d.Backoff(a)
		if b <= prev {
			t.Errorf("backoff(%d) = %v, not above %v", a, b, prev)
		}
		prev = b
	}
	if b := d.Backoff(50); b > 36*time.Second {
		t.Errorf("backoff(50) = %v; want capped near 30s", b)
	}
}

// Two installations that raise the same event send different idempotency
// keys (a receiver shared by two servers must not drop one's alert as a
// repeat of the other's); one installation always sends the same key.
func TestKeysAreScopedToTheInstallation(t *testing.T) {
	evs := FromDrift(drift())
	dests := []Destination{{Name: "hook"}}
	a1, a2, b := Route(evs, dests, "install-a"), Route(evs, dests, "install-a"), Route(evs, dests, "install-b")
	if len(a1) == 0 || len(a1) != len(b) {
		t.Fatalf("routed %d and %d items", len(a1), len(b))
	}
	seen := map[string]bool{}
	for i := range a1 {
		if a1[i].Key != a2[i].Key {
			t.Errorf("one installation, one event, two keys: %s %s", a1[i].Key, a2[i].Key)
		}
		if a1[i].Key == b[i].Key {
			t.Errorf("two installations sent one key %s for %s", a1[i].Key, a1[i].Kind)
		}
		if !strings.HasPrefix(a1[i].Key, a1[i].Kind+"-") {
			t.Errorf("key %s does not start with its kind", a1[i].Key)
		}
		var e Event
		if err := json.Unmarshal(a1[i].Body, &e); err != nil || e.Key != a1[i].Key {
			t.Errorf("the body carries key %q; the item %q", e.Key, a1[i].Key)
		}
		seen[a1[i].Key] = true
	}
	if len(seen) != len(a1) {
		t.Errorf("%d items share %d keys", len(a1), len(seen))
	}
}
