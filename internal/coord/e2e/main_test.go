// Package e2e runs rampart serve and rampart agent as real processes,
// each in its own network namespace (serve with its NATS in a core
// namespace, agents in zone namespaces, the targets behind nftables in a
// target namespace), and scripts the faults the zone design must survive:
// an agent killed with SIGKILL mid-scan, a poison job, serve restarted,
// an external nats-server killed and restarted.
package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/netnstest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampart-zones-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "rampart")
	// E2E_TAGS builds the binary with build tags (scripts/bench/zones.sh
	// passes "pprof" when SERVE_CPUPROFILE asks for serve's profile).
	build := exec.Command("go", "build", "-tags", os.Getenv("E2E_TAGS"), "-o", binary, "github.com/rampart-sec/rampart/cmd/rampart")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rampart:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lineLog keeps a process's output and lets a test wait for a line.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	done  bool
}

func newLineLog() *lineLog {
	l := &lineLog{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *lineLog) feed(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.cond.Broadcast()
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.done = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// wait blocks until n lines match re (counting from the start) and
// returns the submatches of the n-th. The bound only keeps a broken
// process from hanging the test; it is no timing assertion.
func (l *lineLog) wait(t *testing.T, re *regexp.Regexp, n int) []string {
	t.Helper()
	return l.waitUpTo(t, re, n, 3*time.Minute)
}

func (l *lineLog) waitUpTo(t *testing.T, re *regexp.Regexp, n int, bound time.Duration) []string {
	t.Helper()
	timer := time.AfterFunc(bound, func() {
		l.mu.Lock()
		l.done = true
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		seen := 0
		for _, line := range l.lines {
			if m := re.FindStringSubmatch(line); m != nil {
				seen++
				if seen == n {
					return m
				}
			}
		}
		if l.done {
			t.Fatalf("no line %d matching %s; output:\n%s", n, re, strings.Join(l.lines, "\n"))
		}
		l.cond.Wait()
	}
}

// proc is rampart running in a namespace.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *lineLog
	exited chan struct{}
}

// pinned is the CPU list a process is pinned to: E2E_CPUS_SERVE for
// serve, E2E_CPUS_AGENTS for agents (scripts/bench/zones.sh PIN=1 gives
// serve a core of its own); empty when unset.
func pinned(name string) string {
	switch {
	case name == "serve":
		return os.Getenv("E2E_CPUS_SERVE")
	case strings.HasPrefix(name, "agent "):
		return os.Getenv("E2E_CPUS_AGENTS")
	}
	return ""
}

// start runs the rampart binary in ns (ip netns exec) with args.
func start(t *testing.T, name string, ns *netnstest.NS, dir string, env []string, args ...string) *proc {
	t.Helper()
	argv := append([]string{"ip", "netns", "exec", ns.Name, binary}, args...)
	if cpus := pinned(name); cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...) // taskset and ip exec: the pid is rampart's
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, out: newLineLog(), exited: make(chan struct{})}
	go func() { p.out.feed(out); _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// stop ends the process with SIGTERM (SIGKILL if it hangs) and waits.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not stop on SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill9 kills the process without a chance to clean up.
func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// dash is a signed-in admin's browser on the dashboard, reaching serve
// inside its namespace.
type dash struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var formToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newDash(t *testing.T, ns *netnstest.NS, addr, caFile string) *dash {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	d := ns.Dialer(t, 4)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, DialContext: d.DialContext}
	return &dash{t: t, base: "https://" + addr, c: &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (d *dash) do(method, path string, form url.Values) (int, string) {
	d.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", d.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, d.base+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", d.base)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := formToken.FindStringSubmatch(string(b)); m != nil {
		d.csrf = html.UnescapeString(m[1])
	}
	return resp.StatusCode, string(b)
}

func (d *dash) signIn(user, password string) {
	d.t.Helper()
	d.do("GET", "/login", nil)
	if code, body := d.do("POST", "/login", url.Values{"username": {user}, "password": {password}}); code != http.StatusSeeOther {
		d.t.Fatalf("sign in: %d %s", code, body)
	}
}

var secretRE = regexp.MustCompile(`id="agent-secret">([^<]+)<`)

// createAgent makes an agent's credentials on the Zones page and returns
// the secret shown once.
func (d *dash) createAgent(name, zone, kind string) string {
	d.t.Helper()
	d.do("GET", "/zones", nil)
	code, body := d.do("POST", "/zones/agents", url.Values{"name": {name}, "zone": {zone}, "kind": {kind}})
	m := secretRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		d.t.Fatalf("create agent %s: %d\n%s", name, code, body)
	}
	return html.UnescapeString(m[1])
}

func (d *dash) runNow(schedule string) {
	d.t.Helper()
	d.do("GET", "/", nil)
	if code, body := d.do("POST", "/schedules/run", url.Values{"name": {schedule}}); code >= 400 {
		d.t.Fatalf("run now: %d %s", code, body)
	}
}

// zonesAPI is GET /api/v1/zones.
type zonesAPI struct {
	Zones []struct {
		Zone        string `json:"zone"`
		Pending     uint64 `json:"pending"`
		Running     int    `json:"running"`
		Redelivered int    `json:"redelivered"`
		Live        int    `json:"live"`
	} `json:"zones"`
	Agents []struct {
		Name string `json:"name"`
		Zone string `json:"zone"`
		Live bool   `json:"live"`
		Done int64  `json:"done"`
	} `json:"agents"`
	Rounds []struct {
		ID            int64  `json:"id"`
		TotalJobs     int    `json:"total_jobs"`
		Done          int    `json:"done"`
		Dead          int    `json:"dead"`
		ExposureRunID int64  `json:"exposure_run_id"`
		JudgedAt      string `json:"judged_at"`
	} `json:"rounds"`
	Dead []struct {
		JobID      string `json:"job_id"`
		Target     string `json:"target"`
		Zone       string `json:"zone"`
		Agent      string `json:"agent"`
		Deliveries int    `json:"deliveries"`
		Reason     string `json:"reason"`
	} `json:"dead_letters"`
	DeadCount int `json:"dead_letter_count"`
}

func (d *dash) zones() zonesAPI {
	d.t.Helper()
	code, body := d.do("GET", "/api/v1/zones", nil)
	var z zonesAPI
	if code != http.StatusOK || json.Unmarshal([]byte(body), &z) != nil {
		d.t.Fatalf("zones API: %d %s", code, body)
	}
	return z
}

// runFindings returns a run's findings by target and rule.
func (d *dash) runFindings(run int64) map[string]map[string]finding {
	d.t.Helper()
	code, body := d.do("GET", fmt.Sprintf("/api/v1/run/findings?id=%d", run), nil)
	var v struct {
		Findings []finding `json:"findings"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		d.t.Fatalf("run findings: %d %.300s", code, body)
	}
	out := map[string]map[string]finding{}
	for _, f := range v.Findings {
		if out[f.Target] == nil {
			out[f.Target] = map[string]finding{}
		}
		out[f.Target][f.Rule] = f
	}
	return out
}

type finding struct {
	Target  string `json:"target"`
	Rule    string `json:"rule"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// runs returns the stored runs' sources by ID.
func (d *dash) runs() map[int64]string {
	d.t.Helper()
	code, body := d.do("GET", "/api/v1/runs?limit=200", nil)
	var v struct {
		Runs []struct {
			ID     int64  `json:"id"`
			Source string `json:"source"`
		} `json:"runs"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		d.t.Fatalf("runs API: %d %.300s", code, body)
	}
	out := map[int64]string{}
	for _, r := range v.Runs {
		out[r.ID] = r.Source
	}
	return out
}
