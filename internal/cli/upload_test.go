package cli

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/server"
	"github.com/rampart-sec/rampart/internal/server/auth"
)

// scan --upload sends the report to a real rampart serve (in-process, on
// loopback, HTTPS with its generated CA).
func TestScanUpload(t *testing.T) {
	dir := t.TempDir()
	cfg, err := server.ParseConfig([]byte("listen: 127.0.0.1:0\ndata_dir: data\nadmin: {username: admin}\n"), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cheap := auth.Params{Memory: 1024, Time: 1, Threads: 1}
	ctx, cancel := context.WithCancel(context.Background())
	// The server shares the scans' clock: it refuses uploads of scans not just made.
	srv, err := server.New(ctx, server.Options{Config: cfg, AdminPassword: "a long admin password", PasswordParams: &cheap, Version: "test",
		Now: func() time.Time { return testClock }})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.IssueToken(ctx, "ci", "admin")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "https://" + ln.Addr().String()
	ca := srv.CAFile()
	product := fixture(t, "mi-4.3.0")

	r := runCLI(t, map[string]string{"RAMPART_TOKEN": tok}, false, "scan", product, "--upload", base, "--upload-ca", ca, "-f", "json", "--fail-on", "none")
	if r.code != ExitOK && r.code != ExitIncomplete {
		t.Fatalf("scan --upload: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "uploaded as run #1") {
		t.Errorf("stderr = %q; want the run number", r.stderr)
	}
	runs, err := srv.Store().Runs(ctx, 10, 0)
	if err != nil || len(runs) != 1 || !strings.HasPrefix(runs[0].Source, "upload:ci") || runs[0].Findings == 0 {
		t.Fatalf("stored runs = %+v, %v", runs, err)
	}

	for _, c := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{nil, []string{"--upload", base}, ExitUsage, "RAMPART_TOKEN"},
		{map[string]string{"RAMPART_TOKEN": tok}, []string{"--upload", "http://" + ln.Addr().String()}, ExitUsage, "https only"},
		{nil, []string{"--token-file", filepath.Join(dir, "none")}, ExitUsage, "go with --upload"},
		{nil, []string{"--upload-required"}, ExitUsage, "go with --upload"},
		// A failed upload is reported; the exit code stays the scan's
		// (0 here: --fail-on none), unless the upload is required.
		{map[string]string{"RAMPART_TOKEN": "wrong"}, []string{"--upload", base, "--upload-ca", ca}, ExitOK, "401"},
		{map[string]string{"RAMPART_TOKEN": tok}, []string{"--upload", base}, ExitOK, "certificate"},
		{map[string]string{"RAMPART_TOKEN": "wrong"}, []string{"--upload", base, "--upload-ca", ca, "--upload-required"}, ExitUsage, "401"},
		{map[string]string{"RAMPART_TOKEN": tok}, []string{"--upload", base, "--upload-required"}, ExitUsage, "certificate"},
	} {
		args := append([]string{"scan", product, "-f", "json", "--fail-on", "none"}, c.args...)
		r := runCLI(t, c.env, false, args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, r.code, r.stderr, c.code, c.want)
		}
		if c.code == ExitOK && !strings.Contains(r.stdout, `"schemaVersion"`) {
			t.Errorf("%v: no report on stdout", c.args)
		}
	}
}

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--config"},
		{[]string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
		{[]string{"serve", "--config", writeFile(t, dir, "bad.yaml", "listen: nowhere\n")}, "listen"},
	} {
		r := runCLI(t, nil, false, c.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
	}
}
