package cmdexec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// fakeProgram writes an executable shell script named name into dir.
func fakeProgram(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestRunAllowed(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "nft", `echo "{\"nftables\": []}"; echo "args:$*"`)
	e := New(Options{Dirs: []string{dir}})
	out, err := e.Run(context.Background(), "nft", "-j", "list", "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"nftables"`) || !strings.Contains(string(out), "args:-j list ruleset") {
		t.Fatalf("output %q", out)
	}
}

func TestRunRefusesOffList(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "nft", "echo changed")
	fakeProgram(t, dir, "sh", "echo shell")
	e := New(Options{Dirs: []string{dir}})
	for _, c := range [][]string{
		{"nft", "flush", "ruleset"},
		{"nft"},
		{"sh", "-c", "id"},
		{"../nft", "-j", "list", "ruleset"},
		{"sshd", "-T", "-f", "/tmp/x"},
	} {
		_, err := e.Run(context.Background(), c[0], c[1:]...)
		if !errors.Is(err, ErrNotAllowed) {
			t.Errorf("%v: err = %v, want ErrNotAllowed", c, err)
		}
	}
}

func TestRunNotInstalled(t *testing.T) {
	e := New(Options{Dirs: []string{t.TempDir()}})
	_, err := e.Run(context.Background(), "iptables-save")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// TestRunHangingProgramIsKilled: an nft that never returns (and leaves a
// child behind) is stopped at the timeout with a clear error.
func TestRunHangingProgramIsKilled(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "nft", "sleep 300 & sleep 300")
	e := New(Options{Dirs: []string{dir}, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := e.Run(context.Background(), "nft", "-j", "list", "ruleset")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestRunContextCancel(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "nft", "sleep 300")
	e := New(Options{Dirs: []string{dir}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.Run(ctx, "nft", "-j", "list", "ruleset")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestRunOutputCap(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "iptables-save", "yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	e := New(Options{Dirs: []string{dir}, MaxOutput: 64 << 10})
	_, err := e.Run(context.Background(), "iptables-save")
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
}

func TestRunFailureCarriesStderr(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "sshd", "echo 'sshd: no hostkeys available -- exiting.' >&2; exit 1")
	e := New(Options{Dirs: []string{dir}})
	_, err := e.Run(context.Background(), "sshd", "-T")
	if err == nil || !strings.Contains(err.Error(), "no hostkeys available") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunEnvironmentIsClean(t *testing.T) {
	dir := t.TempDir()
	fakeProgram(t, dir, "iptables-save", "env")
	t.Setenv("RAMPART_SECRET_TEST", "leak")
	e := New(Options{Dirs: []string{dir}})
	out, err := e.Run(context.Background(), "iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "leak") || !strings.Contains(string(out), "LC_ALL=C") {
		t.Fatalf("environment %q", out)
	}
}

var _ collect.Executor = (*Executor)(nil)
