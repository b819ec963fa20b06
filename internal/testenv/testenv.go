// Package testenv is what tests share about their environment: where the
// shared fixtures are, and how a test reacts when something it runs against
// (an eval target, PostgreSQL, Chromium, a schema) is not there: it skips
// with the reason, unless RAMPART_EVAL=1 (set by .ci/run, which provides
// all of them), where it fails. Test code only.
package testenv

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Required reports whether every integration dependency must be present.
func Required() bool { return os.Getenv("RAMPART_EVAL") == "1" }

// Missing skips t, or fails it when the dependencies are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("(RAMPART_EVAL=1) "+format, args...)
	}
	t.Skipf(format, args...)
}

// Listening requires a TCP listener at addr (an eval target on loopback);
// hint says how to start it.
func Listening(t testing.TB, addr, hint string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	Missing(t, "%s is not listening (%s): %v", addr, hint, err)
}

// Shared returns the project's shared directory (seeds, spec, fixtures,
// eval): $RAMPART_SHARED, else "shared" beside the repository root.
func Shared(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("RAMPART_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(shared); err != nil {
				t.Fatalf("shared directory %s: %v (set RAMPART_SHARED)", shared, err)
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// WSO2Fixture returns the path of a WSO2 fixture (the real default files
// of one product version), e.g. "apim-4.1.0".
func WSO2Fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Shared(t), "fixtures", "wso2", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return p
}
