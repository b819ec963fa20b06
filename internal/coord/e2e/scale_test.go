package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/bus/bustest"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestZonesScale is the scale benchmark scripts/bench/zones.sh runs (it
// is skipped otherwise): TARGETS endpoints (cheap HTTP listeners in a
// target namespace) judged from 2 zones by 4 agents (each in its own
// namespace), through the embedded NATS or (EXTERNAL=1) Debian's
// nats-server. It reports the throughput, each job's latency, and the
// peak memory of serve, the agents and nats-server. It checks that every
// job was stored once; the numbers are for reading, not asserted.
func TestZonesScale(t *testing.T) {
	if os.Getenv("RAMPART_BENCH_ZONES") == "" {
		t.Skip("a benchmark: run scripts/bench/zones.sh")
	}
	n := envInt("TARGETS", 10000)
	conc := envInt("CONCURRENCY", 8)
	external := os.Getenv("EXTERNAL") == "1"
	w := newWorld(t, "dmz-a", "dmz-b", "int-a", "int-b")
	w.net.Target.IP(t, "route", "add", "local", "10.99.0.0/16", "dev", "lo")
	for ns, gw := range w.net.Gateway {
		w.net.Zones[ns].IP(t, "route", "add", "10.99.0.0/16", "via", gw)
	}
	addrs := make([]string, n)
	var inv strings.Builder
	inv.WriteString("zones: [{name: dmz, role: dmz}, {name: internal, role: internal}]\ntargets:\n")
	for i := range n {
		ip := fmt.Sprintf("10.99.%d.%d", 1+i/250, 1+i%250)
		addrs[i] = ip + ":8080"
		fmt.Fprintf(&inv, "  - {name: t%05d, address: \"http://%s:8080/\", reach_defaults: false}\n", i, ip)
	}
	listenStart := time.Now()
	srv := &http.Server{Handler: zonetest.Gateway(), ReadHeaderTimeout: 10 * time.Second}
	for _, l := range w.net.Target.ListenAll(t, "tcp", addrs) {
		go func() { _ = srv.Serve(l) }()
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Logf("%d listeners in %s", n, time.Since(listenStart).Round(time.Millisecond))
	if err := os.WriteFile(filepath.Join(w.dir, "inventory.yaml"), []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	nats := "nats: {listen: 0.0.0.0:4222}"
	var natsProc *bustest.Proc
	var natsCA string
	const srvPass = "scale benchmark coordinator password"
	if external {
		var ips []string
		for _, a := range w.coreAddr {
			ips = append(ips, a)
		}
		dir := filepath.Join(w.dir, "nats")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		_, natsCA = bustest.Certs(t, dir, ips...)
		if err := os.WriteFile(filepath.Join(w.dir, "nats.pw"), []byte(srvPass), 0o600); err != nil {
			t.Fatal(err)
		}
		natsProc = bustest.Debian(t, dir, bustest.DebianConfig{NS: w.core, Host: "0.0.0.0", TLSDir: dir, MaxPayload: 8 << 20,
			Auth: bus.ConfigBlock("rampart-server", srvPass, nil)})
		nats = fmt.Sprintf("nats: {url: \"tls://127.0.0.1:%d\", user: rampart-server, password_file: nats.pw, ca: %s}", natsProc.Port, natsCA)
	}
	cfg := strings.Replace(w.config("PLACEHOLDER: x", nats), "inventory:\n  PLACEHOLDER: x", "inventory: inventory.yaml", 1)
	cfg = strings.Replace(cfg, "zones: {ack_wait: 3s,", "zones: {ack_wait: 30s,", 1)
	cfg = strings.Replace(cfg, "round_timeout: 10m", "round_timeout: 2h", 1)
	w.startServe(cfg)

	agents := map[string][2]string{"dmz-1": {"dmz", "dmz-a"}, "dmz-2": {"dmz", "dmz-b"}, "int-1": {"internal", "int-a"}, "int-2": {"internal", "int-b"}}
	for name := range agents {
		w.secrets[name] = w.dash.createAgent(name, agents[name][0], "password")
	}
	if external {
		_, block := w.dash.do("GET", "/zones/nats.conf", nil)
		natsProc.SetAuth(strings.Replace(block, "REPLACE-ME", srvPass, 1))
	}
	names := []string{"dmz-1", "dmz-2", "int-1", "int-2"}
	for _, name := range names {
		z, ns := agents[name][0], agents[name][1]
		pw := filepath.Join(w.dir, name+".password")
		if err := os.WriteFile(pw, []byte(w.secrets[name]), 0o600); err != nil {
			t.Fatal(err)
		}
		server, ca := "tls://"+w.coreAddr[ns]+":4222", "data/ca.pem"
		if external {
			server, ca = fmt.Sprintf("tls://%s:%d", w.coreAddr[ns], natsProc.Port), natsCA
		}
		args := []string{"agent", "--zone", z, "--name", name, "--server", server, "--ca", ca, "--concurrency", strconv.Itoa(conc),
			"--heartbeat", "5s", "--log-level", "info", "--password-file", pw}
		w.agents[name] = start(t, "agent "+name, w.net.Zones[ns], w.dir, nil, args...)
		w.serve.out.wait(t, regexp.MustCompile(`msg="agent connected".* agent=`+name+` `), 1)
	}

	// Round 1 finds every target new (the store writes every finding);
	// round 2 is the steady state of a continuous audit (the store writes
	// only what changed).
	type roundResult struct {
		fanned, wall time.Duration
		st           stats
		// serveCPU is serve's CPU seconds for the round (to its judgement).
		serveCPU float64
	}
	var rounds []roundResult
	for round := 1; round <= envInt("ROUNDS", 2); round++ {
		cpu0 := cpuSeconds(w.serve.cmd.Process.Pid)
		begin := time.Now()
		w.dash.runNow("audit")
		w.serve.out.waitUpTo(t, regexp.MustCompile(`msg="round fanned out".* jobs=(\d+)`), round, 10*time.Minute)
		fanned := time.Since(begin)
		w.serve.out.waitUpTo(t, regexp.MustCompile(fmt.Sprintf(`msg="round judged across zones".* round=%d `, round)), 1, 2*time.Hour)
		rr := roundResult{fanned: fanned, wall: time.Since(begin), serveCPU: cpuSeconds(w.serve.cmd.Process.Pid) - cpu0}
		rr.st = jobStats(t, filepath.Join(w.dir, "data", "rampart.db"), round)
		if rr.st.stored != 2*n {
			t.Errorf("round %d stored %d jobs, want %d (each of %d targets from 2 zones, once)", round, rr.st.stored, 2*n, n)
		}
		rounds = append(rounds, rr)
	}
	rss := map[string]int{"serve": peakRSS(w.serve.cmd.Process.Pid)}
	cpu := map[string]float64{"serve": cpuSeconds(w.serve.cmd.Process.Pid)}
	for _, name := range names {
		rss[name] = peakRSS(w.agents[name].cmd.Process.Pid)
		cpu[name] = cpuSeconds(w.agents[name].cmd.Process.Pid)
	}
	if natsProc != nil {
		rss["nats-server"] = natsProc.PeakRSS()
		cpu["nats-server"] = cpuSeconds(natsProc.Pid())
	}
	mode := "embedded NATS"
	if external {
		mode = "Debian nats-server " + natsProc.Version()
	}
	var b strings.Builder
	if c := os.Getenv("E2E_CPUS_SERVE"); c != "" {
		mode += fmt.Sprintf("; serve on CPU %s, agents on CPU %s", c, os.Getenv("E2E_CPUS_AGENTS"))
	}
	fmt.Fprintf(&b, "zones scale: %d targets x 2 zones = %d jobs, 4 agents (--concurrency %d), %s\n", n, 2*n, conc, mode)
	for i, r := range rounds {
		st := r.st
		fmt.Fprintf(&b, "  round %d: fan-out %.1f s; all judged %.1f s after run-now: %.0f jobs/s, %.0f targets/s (both zones)\n",
			i+1, r.fanned.Seconds(), r.wall.Seconds(), float64(2*n)/r.wall.Seconds(), float64(n)/r.wall.Seconds())
		fmt.Fprintf(&b, "    every scan ended %.1f s after run-now: %.0f jobs/s scanned; serve's CPU %.1f s (%.2f ms a job)\n", st.lastScan.Seconds(), float64(2*n)/st.lastScan.Seconds(),
			r.serveCPU, 1000*r.serveCPU/float64(2*n))
		fmt.Fprintf(&b, "    per job: scan p50 %s p99 %s; stored after its scan p50 %s p99 %s max %s; done after run-now p50 %s p99 %s; jobs per agent %v\n",
			st.scan.p(50), st.scan.p(99), st.lag.p(50), st.lag.p(99), st.lag.p(100), st.e2e.p(50), st.e2e.p(99), st.perAgent)
	}
	fmt.Fprintf(&b, "  peak RSS (MiB):")
	keys := make([]string, 0, len(rss))
	for k := range rss {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.0f", k, float64(rss[k])/1024)
	}
	b.WriteString("\n  CPU seconds (both rounds):")
	for _, k := range keys {
		if c, ok := cpu[k]; ok {
			fmt.Fprintf(&b, " %s %.0f", k, c)
		}
	}
	b.WriteString("\n")
	fmt.Print(b.String())
	if f := os.Getenv("SERVE_LOG"); f != "" {
		_ = os.WriteFile(f, []byte(w.serve.out.String()), 0o644)
	}
	if out := os.Getenv("BENCH_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = f.WriteString(b.String())
			f.Close()
		}
	}
}

// peakRSS reads a process's peak resident memory (VmHWM) in KiB.
func peakRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(line)[1])
			return v
		}
	}
	return 0
}

// cpuSeconds is a process's user and system CPU time so far.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which ends with ')'): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (100 Hz).
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return float64(u+st) / 100
}

type durations []time.Duration

func (d durations) p(pct int) string {
	if len(d) == 0 {
		return "-"
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := (len(d) - 1) * pct / 100
	return d[i].Round(time.Millisecond).String()
}

type stats struct {
	stored         int
	scan, lag, e2e durations
	// lastScan is when the round's last scan ended, after run-now: the
	// agents' own pace (they keep scanning while the store catches up;
	// results wait in JetStream).
	lastScan time.Duration
	perAgent map[string]int
}

// jobStats reads the stored jobs' times from serve's database (read-only,
// beside the running server: SQLite in WAL mode).
func jobStats(t *testing.T, path string, round int) stats {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var roundStart int64
	if err := db.QueryRow(`SELECT started_at FROM zone_rounds WHERE id = ?`, round).Scan(&roundStart); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT j.agent, j.at, r.data FROM zone_jobs j JOIN zone_reach r ON r.job_id = j.job_id WHERE j.round_id = ? AND j.state = 'done'`, round)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	s := stats{perAgent: map[string]int{}}
	for rows.Next() {
		var agent, data string
		var at int64
		if err := rows.Scan(&agent, &at, &data); err != nil {
			t.Fatal(err)
		}
		var d struct {
			Started, Finished time.Time
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Fatal(err)
		}
		stored := time.UnixMilli(at)
		s.stored++
		s.perAgent[agent]++
		s.scan = append(s.scan, d.Finished.Sub(d.Started))
		s.lag = append(s.lag, stored.Sub(d.Finished))
		s.e2e = append(s.e2e, stored.Sub(time.UnixMilli(roundStart)))
		s.lastScan = max(s.lastScan, d.Finished.Sub(time.UnixMilli(roundStart)))
	}
	return s
}
