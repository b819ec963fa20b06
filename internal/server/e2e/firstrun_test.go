package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// First runs of scheduled scans: with alerts.on_first_run: failures, the
// first scan of a target alerts on each of its failing findings (as
// new_failure, first_run); a schedule with on_first_run: none keeps its
// targets' first scan a silent baseline.
func TestFirstRunAlertsPerSchedule(t *testing.T) {
	testenv.Short(t, "end-to-end test")
	dir := t.TempDir()
	for _, n := range []string{"loud", "quiet"} {
		copyDir(t, fixture(t, "mi-4.3.0"), filepath.Join(dir, n))
	}
	var mu sync.Mutex
	var events []alert.Event
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e alert.Event
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(b, &e); err == nil {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: data
inventory:
  targets:
    - {name: loud, directory: %s}
    - {name: quiet, directory: %s}
schedules:
  - {name: loud, every: 24h, run_at_start: true, targets: [loud]}
  - {name: quiet, every: 24h, run_at_start: true, targets: [quiet], on_first_run: none}
scan: {timeout: 60s}
alerts:
  on_first_run: failures
  destinations:
    - {name: rcv, url: "http://%s/hook", kinds: [new_failure]}
`, filepath.Join(dir, "loud"), filepath.Join(dir, "quiet"), ln.Addr())
	p := startServe(t, dir, cfg, "RAMPART_ADMIN_PASSWORD=first run test password")
	p.out.wait(t, regexp.MustCompile(`msg="scan stored"`), 2, 60*time.Second)

	// What the loud target's first run found failing.
	st, err := store.Open(context.Background(), p.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	failing, err := st.Findings(context.Background(), store.Filter{Target: "loud", Status: finding.Fail})
	if err != nil || len(failing) == 0 {
		t.Fatalf("loud's failing findings: %d, %v", len(failing), err)
	}
	// Both runs are stored, their alerts enqueued with them: once the
	// server's dispatcher has nothing pending, the receiver has had every
	// alert there will be.
	testenv.Poll(t, 30*time.Second, "alerts delivered", func() error {
		stats, err := st.OutboxStats(context.Background())
		if err == nil && stats.Pending > 0 {
			err = fmt.Errorf("outbox %+v", stats)
		}
		return err
	})
	mu.Lock()
	defer mu.Unlock()
	byTarget := map[string]map[string]bool{}
	for _, e := range events {
		if byTarget[e.Target] == nil {
			byTarget[e.Target] = map[string]bool{}
		}
		byTarget[e.Target][e.Rule] = e.FirstRun && e.Kind == alert.KindNewFailure
	}
	if len(byTarget["loud"]) != len(failing) {
		t.Errorf("first-run alerts for loud: %d rules; want %d\n%s", len(byTarget["loud"]), len(failing), p.out)
	}
	for _, f := range failing {
		if !byTarget["loud"][f.RuleID] {
			t.Errorf("no first-run new_failure alert for %s on loud", f.RuleID)
		}
	}
	for _, e := range events {
		if e.Target != "loud" {
			t.Errorf("alert for %s, whose schedule says on_first_run: none: %+v", e.Target, e)
		}
	}
	t.Logf("loud's first run: %d failing findings, %d first-run alerts; quiet: none", len(failing), len(byTarget["loud"]))
}
