// Package e2e tests `rampart serve` end to end: the real binary on
// loopback, scheduled scans of real product files and a loopback endpoint
// the test starts, the dashboard driven in headless Chromium, webhooks that
// are down and then up, kill -9 in the middle of a scan, and rampart's own
// TLS and HTTP rules run against the server.
package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// binary is the rampart built for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampart-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "rampart")
	build := exec.Command("go", "build", "-o", binary, "github.com/rampart-sec/rampart/cmd/rampart")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rampart:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// artifactDir is where screenshots go: $RAMPART_ARTIFACTS, or a kept
// temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("RAMPART_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "rampart-artifacts-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// lineLog collects a process's output and lets tests wait for lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	// added is closed (and replaced) whenever a line arrives.
	added chan struct{}
}

func newLineLog() *lineLog {
	return &lineLog{added: make(chan struct{})}
}

func (l *lineLog) feed(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.added)
		l.added = make(chan struct{})
		l.mu.Unlock()
	}
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// count returns how many lines match re.
func (l *lineLog) count(re *regexp.Regexp) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if re.MatchString(s) {
			n++
		}
	}
	return n
}

// wait returns the submatches of the n-th line (1-based) matching re.
func (l *lineLog) wait(t *testing.T, re *regexp.Regexp, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		seen := 0
		for _, s := range l.lines {
			if m := re.FindStringSubmatch(s); m != nil {
				seen++
				if seen == n {
					l.mu.Unlock()
					return m
				}
			}
		}
		added := l.added
		l.mu.Unlock()
		select {
		case <-added:
		case <-deadline.C:
			t.Fatalf("no line %d matching %s within %s; output:\n%s", n, re, timeout, l.String())
		}
	}
}

// serveProc is a running `rampart serve`.
type serveProc struct {
	cmd     *exec.Cmd
	out     *lineLog
	base    string
	dataDir string
	client  *http.Client
	exited  chan struct{}
}

var servingRE = regexp.MustCompile(`serving https://(\S+)/`)

// startServe runs the binary with a configuration and waits until it
// serves.
func startServe(t *testing.T, dir, config string, env ...string) *serveProc {
	t.Helper()
	cfgPath := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", cfgPath, "--log-level", "info")
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, out: newLineLog(), dataDir: filepath.Join(dir, "data"), exited: make(chan struct{})}
	go func() { p.out.feed(stderr); _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.stop(t) })
	m := p.out.wait(t, servingRE, 1, 60*time.Second)
	p.base = "https://" + m[1]
	pem, err := os.ReadFile(filepath.Join(p.dataDir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	p.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return p
}

// stop ends the server gracefully (SIGTERM), or kills it if it hangs.
func (p *serveProc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("serve did not stop on SIGTERM; killing it")
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill9 kills the server without a chance to clean up.
func (p *serveProc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// api calls the JSON API with a token and decodes the answer into v.
func (p *serveProc) api(t *testing.T, token, method, path string, v any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, p.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// peakRSS reads the process's peak resident memory (VmHWM) in KiB.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

// copyDir copies a product fixture so a test may change it.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	testenv.CopyTree(t, src, dst)
}

// fixture returns a WSO2 product fixture directory.
func fixture(t *testing.T, name string) string {
	t.Helper()
	return testenv.WSO2Fixture(t, name)
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
