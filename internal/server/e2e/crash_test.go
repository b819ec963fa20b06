package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// tarpit accepts connections and never answers, so a scan of it is under
// way for as long as the collectors' timeout.
func tarpit(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return ln.Addr().String()
}

// checkHistory verifies that the store holds only whole runs and that
// every finding's history points at stored runs. It returns the number
// of runs.
func checkHistory(t *testing.T, dataDir string) int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		t.Fatalf("reopen the store: %v", err)
	}
	defer st.Close()
	db := st.DB()
	var integrity string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	runs, err := st.Runs(ctx, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		var nt int
		recs, err := st.RunFindings(ctx, r.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		nf := len(recs)
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_targets WHERE run_id = ?`, r.ID).Scan(&nt); err != nil {
			t.Fatal(err)
		}
		if nf != r.Findings || nt != r.Targets || r.Targets == 0 {
			t.Errorf("run %d is half-written: %d/%d findings, %d/%d targets", r.ID, nf, r.Findings, nt, r.Targets)
		}
	}
	for _, q := range []string{
		`SELECT COUNT(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = f.last_run_id) OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = f.first_run_id) OR f.first_seen > f.last_seen`,
		`SELECT COUNT(*) FROM finding_spans sp WHERE sp.until_run IS NOT NULL AND sp.until_run <= sp.from_run`,
		`SELECT COUNT(*) FROM targets t WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.last_run_id)`,
		`SELECT COUNT(*) FROM finding_spans sp WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.fingerprint = sp.fingerprint)`,
		`SELECT COUNT(*) FROM finding_spans sp WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = sp.from_run)`,
	} {
		var bad int
		if err := db.QueryRowContext(ctx, q).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%d inconsistent rows: %s", bad, q)
		}
	}
	return len(runs)
}

// kill -9 while scans run, several times, then restart: every run stored
// before the kill is still there and whole, nothing half-written appears,
// and the server carries on.
func TestKillDuringScan(t *testing.T) {
	testenv.Short(t, "end-to-end test")
	dir := t.TempDir()
	fast := filepath.Join(dir, "mi")
	copyDir(t, fixture(t, "mi-4.3.0"), fast)
	slow := tarpit(t)
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: data
inventory:
  targets:
    - {name: mi, directory: %s}
    - {name: stuck, address: "%s"}
schedules:
  - {name: files, every: 1s, run_at_start: true, targets: [mi]}
  - {name: stuck, every: 1s, targets: [stuck]}
scan:
  timeout: 2s
`, fast, slow)
	admin := "RAMPART_ADMIN_PASSWORD=crash test password"
	stored := regexp.MustCompile(`msg="scan stored"`)
	stuckStarted := regexp.MustCompile(`msg="scan started" schedule=stuck`)
	filesStarted := regexp.MustCompile(`msg="scan started" schedule=files`)
	total := 0
	for round := 1; round <= 3; round++ {
		p := startServe(t, dir, cfg, admin)
		// Let some runs complete, then kill: inside the stuck scan (it
		// has started, its collector holds for the 2 s timeout), inside
		// a scan of the files, and just after a run was stored.
		p.out.wait(t, stored, 2, 60*time.Second)
		switch round {
		case 1:
			p.out.wait(t, stuckStarted, 1, 60*time.Second)
		case 2:
			p.out.wait(t, filesStarted, p.out.count(filesStarted)+1, 60*time.Second)
		case 3:
			p.out.wait(t, stored, p.out.count(stored)+1, 60*time.Second)
		}
		before := p.out.count(stored)
		p.kill9()
		runs := checkHistory(t, p.dataDir)
		if runs < total+before {
			t.Fatalf("round %d: %d runs in the store after kill -9; %d were stored before it", round, runs, total+before)
		}
		total = runs
		t.Logf("round %d: killed with %d runs stored; history consistent", round, runs)
	}
	// The server starts again on the same data and keeps going.
	p := startServe(t, dir, cfg, admin)
	p.out.wait(t, stored, 1, 60*time.Second)
	p.stop(t)
	if err := p.cmd.ProcessState.ExitCode(); err != 0 {
		t.Errorf("graceful stop exit code %d", err)
	}
	if runs := checkHistory(t, p.dataDir); runs <= total {
		t.Errorf("no run stored after the restart (%d, had %d)", runs, total)
	}
}
