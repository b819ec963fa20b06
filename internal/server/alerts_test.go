package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// A webhook that answers 410 Gone: its alerts become dead letters with
// the answer shown on the dashboard, counted in /metrics; a viewer cannot
// touch them; once the receiver answers 200 an admin's retry delivers
// them; a discarded one stays discarded. On SQLite and PostgreSQL.
func TestDeadLetters(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDeadLetters(t, "") })
	t.Run("postgres", func(t *testing.T) { testDeadLetters(t, postgresDSN(t)) })
}

func testDeadLetters(t *testing.T, storage string) {
	var status atomic.Int32
	status.Store(http.StatusGone)
	var mu sync.Mutex
	got := map[string]int{}
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		code := int(status.Load())
		if code == http.StatusGone {
			http.Error(w, "hook deleted", code)
			return
		}
		w.WriteHeader(code)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go rcv.Serve(ln)
	defer rcv.Close()
	extra := fmt.Sprintf("alerts:\n  retry_for: 1h\n  destinations:\n    - {name: rcv, url: \"http://%s/hook\", secret: s3cret}\n", ln.Addr())
	if storage != "" {
		extra += "storage: \"" + storage + "\"\n"
	}
	ts := startServer(t, extra)
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	upload := func(at time.Time, fs ...finding.Finding) {
		t.Helper()
		if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(at, fs...)), bearer); resp.StatusCode != 201 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
	}
	type alerts struct {
		Alerts []struct {
			ID        int64  `json:"id"`
			Key       string `json:"idempotency_key"`
			LastError string `json:"last_error"`
			Attempts  int    `json:"attempts"`
			Event     struct {
				Kind string `json:"kind"`
			} `json:"event"`
		} `json:"alerts"`
		Stats struct {
			Dead, Delivered, Discarded, Pending int
		} `json:"stats"`
	}
	list := func(state string) alerts {
		t.Helper()
		var a alerts
		_, body := ts.do(t, "GET", "/api/v1/alerts?state="+state, nil, bearer)
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("alerts: %v in %s", err, body)
		}
		return a
	}
	// The dispatcher is the server's background loop: wait for what it
	// writes to the outbox.
	waitFor := func(what string, ok func(alerts) bool) alerts {
		t.Helper()
		var got alerts
		testenv.Poll(t, 20*time.Second, what, func() error {
			got = list("dead")
			if ok(got) {
				return nil
			}
			return fmt.Errorf("stats %+v", got.Stats)
		})
		return got
	}
	t0 := time.Now().UTC().Add(-time.Hour)
	const a = "https://gw.example.test/"
	upload(t0, fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Pass, finding.High))
	upload(t0.Add(time.Minute), fnd(a, "TLS-001", finding.Pass, finding.High), fnd(a, "TLS-002", finding.Fail, finding.High))
	dead := waitFor("two dead letters", func(a alerts) bool { return a.Stats.Dead == 2 && len(a.Alerts) == 2 && a.Stats.Pending == 0 })
	for _, d := range dead.Alerts {
		if d.LastError != "post rcv: status 410: hook deleted" || d.Attempts != 1 || d.Event.Kind == "" {
			t.Errorf("dead letter %+v", d)
		}
	}
	resp, body := ts.do(t, "GET", "/alerts", nil, nil)
	if resp.StatusCode != 200 || strings.Count(body, `class="dead-letter"`) != 2 || !strings.Contains(body, "status 410: hook deleted") || !strings.Contains(body, `id="retry-all"`) {
		t.Errorf("alerts page: %d\n%s", resp.StatusCode, body)
	}
	if _, body := ts.do(t, "GET", "/", nil, nil); !strings.Contains(body, `<a href="/alerts">2</a>`) {
		t.Error("the fleet page does not count the dead letters")
	}
	_, body = ts.do(t, "GET", "/metrics", nil, bearer)
	for _, want := range []string{`rampart_alert_outbox{state="dead"} 2`, `rampart_alert_dead_letters{destination="rcv"} 2`, `result="dead"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// A viewer sees them but cannot retry or discard.
	_, page := ts.form(t, "/users", url.Values{"username": {"vic"}, "role": {"viewer"}})
	vic := ts.browser()
	if resp, _ := vic.redeem(t, inviteLink(t, page), "viewer password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("viewer setup")
	}
	resp, body = vic.do(t, "GET", "/alerts", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "hook deleted") || strings.Contains(body, `action="/alerts/retry"`) || strings.Contains(body, `action="/alerts/discard"`) {
		t.Errorf("viewer's alerts page: %d, controls shown or letters missing", resp.StatusCode)
	}
	if resp, _ := vic.form(t, "/alerts/retry", url.Values{"id": {"all"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer retries: %d; want 403", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "POST", "/api/v1/alerts/retry?id=all", nil, bearer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("uploader token retries: %d; want 403", resp.StatusCode)
	}
	// Dead letters are not retried on their own, even once the receiver
	// answers 200: a whole pass of the dispatcher over the outbox, made
	// here and now (not a wait for its next poll), delivers nothing, the
	// receiver hears nothing more and both letters stay dead.
	status.Store(http.StatusOK)
	mu.Lock()
	before := maps.Clone(got)
	mu.Unlock()
	if n := ts.srv.dispatch.Flush(t.Context()); n != 0 {
		t.Errorf("a dispatcher pass delivered %d alerts; the dead letters must wait for an admin", n)
	}
	mu.Lock()
	after := maps.Clone(got)
	mu.Unlock()
	if !maps.Equal(before, after) {
		t.Errorf("the receiver was called again: %v, then %v", before, after)
	}
	if a := list("dead"); a.Stats.Dead != 2 || a.Stats.Pending != 0 {
		t.Fatalf("dead letters retried without an admin: %+v", a.Stats)
	}
	// The admin retries one, then all.
	if resp, _ := ts.form(t, "/alerts/retry", url.Values{"id": {fmt.Sprint(dead.Alerts[0].ID)}}); resp.StatusCode != 200 {
		t.Errorf("retry one: %d", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/alerts/retry", url.Values{"id": {fmt.Sprint(dead.Alerts[0].ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("retry one that is no longer dead: %d; want 404", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/alerts/retry", url.Values{"id": {"x"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("retry a bad id: %d; want 400", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/alerts/retry", url.Values{"id": {"all"}}); resp.StatusCode != 200 {
		t.Errorf("retry all: %d", resp.StatusCode)
	}
	waitFor("both delivered", func(a alerts) bool { return a.Stats.Dead == 0 && a.Stats.Delivered == 2 })
	mu.Lock()
	for _, d := range dead.Alerts {
		if got[d.Key] != 2 {
			t.Errorf("%s arrived %d times; want twice (410, then 200)", d.Key, got[d.Key])
		}
	}
	mu.Unlock()
	// Another dead letter, discarded by an admin token through the API.
	status.Store(http.StatusGone)
	upload(t0.Add(2*time.Minute), fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Fail, finding.High))
	dead = waitFor("a third dead letter", func(a alerts) bool { return a.Stats.Dead == 1 && len(a.Alerts) == 1 })
	admTok, err := ts.srv.IssueTokenWithRole(t.Context(), "ops", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	adm := map[string]string{"Authorization": "Bearer " + admTok}
	if resp, body := ts.do(t, "POST", fmt.Sprintf("/api/v1/alerts/discard?id=%d", dead.Alerts[0].ID), nil, adm); resp.StatusCode != 200 {
		t.Fatalf("discard: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "POST", fmt.Sprintf("/api/v1/alerts/discard?id=%d", dead.Alerts[0].ID), nil, adm); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second discard: %d; want 404", resp.StatusCode)
	}
	if a := list("discarded"); a.Stats.Dead != 0 || a.Stats.Discarded != 1 || len(a.Alerts) != 1 {
		t.Errorf("after discard: %+v", a)
	}
	// Who did it, in the audit log.
	_, body = ts.do(t, "GET", "/audit", nil, nil)
	for _, want := range []string{"alert.retry", "all dead letters", "alert.discard", "token:ops (admin)"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}
