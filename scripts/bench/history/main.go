// Command history benchmarks rampart serve's history store: how many
// bytes a run costs when nothing changes, and (mode pages) how fast the
// dashboard and API answer over a large seeded fleet. It is driven by
// scripts/bench/history.sh.
//
//	history -mode bytes -storage DIR|postgres://... -report a.json,b.json -runs 1000
//	history -mode seed  -storage ... -report a.json -targets 10000 -runs 100 -big 100000
//	history -mode open -storage ...     # migrations only, timed
//	history -mode saverun -storage ... -share 0.33
//	history -mode pages -base https://127.0.0.1:PORT -ca ca.pem -password PW -n 50
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

func main() {
	mode := flag.String("mode", "bytes", "bytes, seed or pages")
	storage := flag.String("storage", "", "a data directory (SQLite) or a postgres:// DSN")
	other := flag.String("other", "", "the store to compare with (compare)")
	reports := flag.String("report", "", "JSON reports whose findings make up a target (comma-separated)")
	runs := flag.Int("runs", 1000, "runs to store")
	targets := flag.Int("targets", 10000, "targets of the seeded fleet")
	big := flag.Int("big", 100000, "findings of the one big target (seed)")
	change := flag.Float64("change", 0.01, "share of the findings whose status flips in each seeded run")
	share := flag.Float64("share", 1.0/3, "share of the latest findings changed in the run stored (saverun)")
	per := flag.Int("per", 20, "findings per target of the seeded fleet")
	pid := flag.Int("pid", 0, "the server's process ID, for its peak RSS (pages)")
	base := flag.String("base", "", "the server's URL (pages)")
	ca := flag.String("ca", "", "the server's CA (pages)")
	password := flag.String("password", "", "the admin's password (pages)")
	n := flag.Int("n", 50, "requests per page (pages)")
	keyset := flag.Bool("keyset", false, "reach deep pages by the cursors of next links (after=), as the dashboard and API page now, instead of by offset (pages)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	ctx := context.Background()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch *mode {
	case "bytes":
		err = bytesPerRun(ctx, *storage, strings.Split(*reports, ","), *runs)
	case "compare":
		err = compareStores(ctx, *storage, *other)
	case "seedfast":
		err = seedFast(ctx, *storage, strings.Split(*reports, ","), *targets, *runs, *big, *per, *change)
	case "seed":
		err = seed(ctx, *storage, strings.Split(*reports, ","), *targets, *runs, *big, *per, *change)
	case "open":
		err = openOnly(ctx, *storage)
	case "saverun":
		err = saveOne(ctx, *storage, *share)
	case "pages":
		err = pages(ctx, *base, *ca, *password, *n, *pid, *keyset)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// template reads the findings of the reports, to be relabelled onto
// bench targets: real findings with their real evidence and texts.
func template(paths []string) ([]finding.Finding, error) {
	var out []finding.Finding
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r finding.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, f := range r.Findings {
			f.Fingerprint = fmt.Sprint(i) // made per target below
			out = append(out, f)
		}
	}
	return out, nil
}

// relabel makes tmpl the findings of one target.
func relabel(tmpl []finding.Finding, target string) []finding.Finding {
	out := make([]finding.Finding, len(tmpl))
	for i, f := range tmpl {
		f.Target = target
		f.Fingerprint = finding.Fingerprint(target, f.RuleID, f.Fingerprint+fmt.Sprint(i))
		out[i] = f
	}
	return out
}

func report(at time.Time, fs []finding.Finding, targets ...string) *finding.Report {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "bench"},
		StartedAt: at.Add(-2 * time.Second), FinishedAt: at, Findings: fs}
	for _, t := range targets {
		r.Targets = append(r.Targets, finding.TargetInfo{Name: t, Kind: "endpoint", Profiles: []string{"wso2-apim"}})
	}
	r.Finalize()
	return r
}

// size is the store's size on disk in bytes: the SQLite file after a
// checkpoint, or the PostgreSQL schema's tables with their indexes and
// TOAST.
func size(ctx context.Context, st *store.SQL, storage string) (int64, error) {
	db := st.DB()
	if st.Dialect() == "postgres" {
		var n sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
		return n.Int64, err
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	fi, err := os.Stat(filepath.Join(storage, store.DBFile))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// bytesPerRun stores one target's unchanged findings runs times and
// reports what each run after the first added to the store.
func bytesPerRun(ctx context.Context, storage string, reports []string, runs int) error {
	tmpl, err := template(reports)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	const name = "https://bench-target.example:9443/"
	fs := relabel(tmpl, name)
	t0 := time.Now().Add(-time.Duration(runs) * time.Hour)
	var first int64
	start := time.Now()
	for i := range runs {
		r := report(t0.Add(time.Duration(i)*time.Hour), fs, name)
		if _, err := st.SaveRun(ctx, store.RunInput{Report: r, Source: "bench", Now: r.FinishedAt}, nil); err != nil {
			return err
		}
		if i == 0 {
			if first, err = size(ctx, st, storage); err != nil {
				return err
			}
		}
	}
	took := time.Since(start)
	last, err := size(ctx, st, storage)
	if err != nil {
		return err
	}
	fmt.Printf("store: %s\n", st.Dialect())
	fmt.Printf("target: %d findings, %d runs, nothing changing\n", len(fs), runs)
	fmt.Printf("size after the first run: %d bytes; after %d runs: %d bytes\n", first, runs, last)
	fmt.Printf("bytes per unchanged run: %.0f\n", float64(last-first)/float64(runs-1))
	fmt.Printf("SaveRun: %.1f ms per run\n", float64(took.Microseconds())/1000/float64(runs))
	return nil
}

// seed stores a fleet: targets targets of per findings each (real
// findings relabelled), runs runs of all of them in which a share of the
// findings flips between fail and pass, and one big target with big
// findings (two runs).
func seed(ctx context.Context, storage string, reports []string, targets, runs, big, per int, change float64) error {
	tmpl, err := template(reports)
	if err != nil {
		return err
	}
	if per > len(tmpl) {
		per = len(tmpl)
	}
	st, err := store.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	var names []string
	var fs []finding.Finding
	for i := range targets {
		n := fmt.Sprintf("https://target-%05d.bench.example:9443/", i)
		names = append(names, n)
		fs = append(fs, relabel(tmpl[:per], n)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Now().Truncate(time.Hour).Add(-time.Duration(runs+2) * time.Hour)
	start := time.Now()
	for run := range runs {
		if run > 0 {
			for range int(change * float64(len(fs))) {
				f := &fs[rng.IntN(len(fs))]
				if f.Status == finding.Fail {
					f.Status = finding.Pass
				} else {
					f.Status = finding.Fail
				}
			}
		}
		at := t0.Add(time.Duration(run) * time.Hour)
		r := report(at, fs, names...)
		if _, err := st.SaveRun(ctx, store.RunInput{Report: r, Source: "bench", Now: at}, nil); err != nil {
			return err
		}
		if run%10 == 9 || run == runs-1 {
			log.Printf("run %d of %d stored (%d findings each), %s", run+1, runs, len(fs), time.Since(start).Round(time.Second))
		}
	}
	if big > 0 {
		const name = "https://big.bench.example:9443/"
		var bfs []finding.Finding
		for i := range big {
			f := tmpl[i%len(tmpl)]
			f.Target = name
			f.Fingerprint = finding.Fingerprint(name, f.RuleID, fmt.Sprint(i))
			bfs = append(bfs, f)
		}
		for i := range 2 {
			at := t0.Add(time.Duration(runs+i) * time.Hour)
			if _, err := st.SaveRun(ctx, store.RunInput{Report: report(at, bfs, name), Source: "bench", Now: at}, nil); err != nil {
				return err
			}
		}
		log.Printf("big target: %d findings, 2 runs, %s", big, time.Since(start).Round(time.Second))
	}
	n, err := size(ctx, st, storage)
	if err != nil {
		return err
	}
	fmt.Printf("seeded: %d targets x %d findings x %d runs (%.0f%% changing per run) + one target of %d findings; store %d MiB; %s\n",
		targets, per, runs, change*100, big, n>>20, time.Since(start).Round(time.Second))
	return nil
}

// pages signs in and times every page and API call n times; it prints
// the median, p99 and maximum of each and the server's peak RSS.
func pages(ctx context.Context, base, ca, password string, n, pid int, keyset bool) (err error) {
	bad := 0
	pem, rerr := os.ReadFile(ca)
	if rerr != nil {
		return rerr
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, []byte, error) {
		resp, err := c.Get(base + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	_, body, err := get("/login")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("no form token on /login")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {password}, "csrf": {html.UnescapeString(string(m[1]))}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in: %d", resp.StatusCode)
	}
	var runs struct {
		Runs []struct {
			ID int64 `json:"id"`
		} `json:"runs"`
	}
	_, body, err = get("/api/v1/runs?limit=5")
	if err != nil || json.Unmarshal(body, &runs) != nil || len(runs.Runs) < 4 {
		return fmt.Errorf("runs: %v %s", err, body)
	}
	// The last two fleet runs (the two newest are the big target's).
	a, b := runs.Runs[3].ID, runs.Runs[2].ID
	big := url.QueryEscape("https://big.bench.example:9443/")
	// Deep pages: by offset, or (keyset) by the cursor a client that
	// followed the next links from the first page would hold there.
	deepFindings := "/findings?status=fail&sort=age&offset=50000"
	deepTarget := "/target?name=" + big + "&offset=99900"
	deepTargetAPI := "/api/v1/target?name=" + big + "&offset=50000"
	deepRunAPI := fmt.Sprintf("/api/v1/run/findings?id=%d&offset=100000&limit=1000", b)
	if keyset {
		cursor := func(api string, depth int) (string, error) {
			after := ""
			for done := 0; done < depth; done += 1000 {
				u := api + "&limit=1000"
				if after != "" {
					u += "&after=" + url.QueryEscape(after)
				}
				_, body, err := get(u)
				if err != nil {
					return "", err
				}
				var pg struct {
					NextAfter string `json:"next_after"`
				}
				if err := json.Unmarshal(body, &pg); err != nil {
					return "", fmt.Errorf("%s: %v %.200s", api, err, body)
				}
				if pg.NextAfter == "" {
					// A smaller fleet than the benchmark's: its last page.
					log.Printf("%s: the list ends before %d (at %d)", api, depth, done)
					break
				}
				after = pg.NextAfter
			}
			return url.QueryEscape(after), nil
		}
		c1, err := cursor("/api/v1/findings?status=fail&sort=age", 50000)
		if err != nil {
			return err
		}
		c2, err := cursor("/api/v1/target?name="+big+"&sort=severity", 99000)
		if err != nil {
			return err
		}
		c3, err := cursor("/api/v1/target?name="+big, 50000)
		if err != nil {
			return err
		}
		c4, err := cursor(fmt.Sprintf("/api/v1/run/findings?id=%d", b), 100000)
		if err != nil {
			return err
		}
		deepFindings = "/findings?status=fail&sort=age&from=50001&after=" + c1
		deepTarget = "/target?name=" + big + "&sort=severity&from=99001&after=" + c2
		deepTargetAPI = "/api/v1/target?name=" + big + "&after=" + c3
		deepRunAPI = fmt.Sprintf("/api/v1/run/findings?id=%d&limit=1000&after=%s", b, c4)
	}
	small := url.QueryEscape("https://target-00042.bench.example:9443/")
	paths := []string{
		"/", "/?offset=9900", "/?q=target-0999", "/findings?status=fail", deepFindings,
		"/target?name=" + big, deepTarget, "/target?name=" + small,
		"/rules", "/rule?id=TLS-002", "/runs", fmt.Sprintf("/run?id=%d", b), fmt.Sprintf("/diff?a=%d&b=%d", a, b), "/exceptions", "/monitor", "/alerts", "/audit",
		"/api/v1/targets", "/api/v1/targets?offset=9900", "/api/v1/findings?status=fail&limit=1000", deepTargetAPI,
		deepRunAPI, fmt.Sprintf("/api/v1/diff?a=%d&b=%d", a, b), "/api/v1/runs", "/metrics",
		// The rest of the pages and calls a reader or an admin has.
		// (A run of the whole fleet is too large for one HTML report: 400;
		// each target's report is a download of its own.)
		fmt.Sprintf("/run/report.html?id=%d&target=%s", b, small), fmt.Sprintf("/api/v1/run?id=%d", b),
		// (The seeded store has no zones: a target's exposure is a 404.)
		"/zones", "/api/v1/zones", "/api/v1/health",
		"/api/v1/alerts", "/api/v1/audit", "/tokens", "/users", "/account",
		"/findings.csv?status=fail&rule=TLS-002", "/audit.csv",
	}
	if keyset {
		paths = append(paths, fmt.Sprintf("/run?id=%d&from=5001&after=%s", b, url.QueryEscape("https://target-05000.bench.example:9443/")))
	}
	fmt.Printf("%-62s %8s %8s %8s %8s %8s\n", "page or API call", "status", "p50 ms", "p99 ms", "max ms", "CPU ms")
	worst := time.Duration(0)
	for _, p := range paths {
		var ds []time.Duration
		status := 0
		cpu0 := cpuTime(pid)
		for range n {
			t := time.Now()
			code, _, err := get(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			ds = append(ds, time.Since(t))
			status = code
		}
		if status != http.StatusOK {
			bad++
		}
		slices.Sort(ds)
		p99 := ds[min(len(ds)-1, int(float64(len(ds))*0.99))]
		worst = max(worst, p99)
		// The server's CPU time per request: what a page costs whatever
		// else the machine is running (its latency is not).
		cpu := float64(cpuTime(pid)-cpu0) / float64(n)
		fmt.Printf("%-62s %8d %8.1f %8.1f %8.1f %8.1f\n", clip(p, 62), status, ms(ds[len(ds)/2]), ms(p99), ms(ds[len(ds)-1]), ms(time.Duration(cpu)))
	}
	fmt.Printf("worst p99: %.1f ms\n", ms(worst))
	defer func() {
		if bad > 0 && err == nil {
			err = fmt.Errorf("%d pages or calls did not answer 200", bad)
		}
	}()
	if pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmHWM") {
					fmt.Printf("server peak RSS: %s\n", strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")))
				}
			}
		}
	}
	return nil
}

// cpuTime is the user and system CPU time process pid has used (0
// without a pid, or where /proc cannot tell).
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) in parentheses:
	// utime and stime are the 12th and 13th, in clock ticks (100 a
	// second on Linux).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var u, st int64
	if _, err := fmt.Sscan(f[11], &u); err != nil {
		return 0
	}
	if _, err := fmt.Sscan(f[12], &st); err != nil {
		return 0
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
