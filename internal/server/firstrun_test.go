package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/finding"
)

// eventLog is a webhook receiver that keeps every event it gets.
type eventLog struct {
	mu     sync.Mutex
	events []alert.Event
}

func (l *eventLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e alert.Event
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &e); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []alert.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]alert.Event(nil), l.events...)
}

// An uploaded first run of a target: its failing findings alert only
// with alerts.on_first_run: failures (as new_failure, first_run), and
// never as a baseline with the default.
func TestFirstRunAlertsOnUpload(t *testing.T) {
	for _, c := range []struct {
		setting string
		want    int // first-run alerts
	}{{"", 0}, {"none", 0}, {"failures", 2}} {
		t.Run("on_first_run="+c.setting, func(t *testing.T) {
			rcv := &eventLog{}
			hs := &http.Server{Handler: rcv}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go hs.Serve(ln)
			defer hs.Close()
			extra := fmt.Sprintf("alerts:\n  destinations:\n    - {name: rcv, url: \"http://%s/hook\"}\n", ln.Addr())
			if c.setting != "" {
				extra += "  on_first_run: " + c.setting + "\n"
			}
			ts := startServer(t, extra)
			tok := ts.signUp(t)
			bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
			const a = "https://gw.example.test/"
			t0 := time.Now().UTC().Add(-time.Hour)
			first := uploadReport(t0, fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Fail, finding.Low), fnd(a, "TLS-003", finding.Pass, finding.High))
			if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(first), bearer); resp.StatusCode != 201 {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			// A second run with one new failure: its alert marks the end
			// of what the first run raised.
			second := uploadReport(t0.Add(time.Minute), fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Fail, finding.Low), fnd(a, "TLS-003", finding.Fail, finding.High))
			if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(second), bearer); resp.StatusCode != 201 {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			// Every alert of both runs was enqueued by its upload: once
			// the outbox is delivered, the receiver has all of them.
			outboxDelivered(t, ts)
			if evs := rcv.snapshot(); len(evs) != c.want+1 {
				t.Fatalf("received %d alerts; want %d", len(evs), c.want+1)
			}
			firstRun, later := map[string]bool{}, 0
			for _, e := range rcv.snapshot() {
				switch {
				case e.FirstRun:
					if e.Kind != alert.KindNewFailure || e.RunID != 1 {
						t.Errorf("first-run alert %+v", e)
					}
					firstRun[e.Rule] = true
				case e.Rule == "TLS-003" && e.Kind == alert.KindNewFailure:
					later++
				default:
					t.Errorf("unexpected alert %+v", e)
				}
			}
			if len(firstRun) != c.want || (c.want > 0 && !(firstRun["TLS-001"] && firstRun["TLS-002"])) {
				t.Errorf("first-run alerts for %v; want %d (the failing findings)", firstRun, c.want)
			}
			if later != 1 {
				t.Errorf("%d alerts for the second run's new failure; want 1", later)
			}
		})
	}
}
