// Package testenv is what tests share about their environment: where the
// shared fixtures are, and how a test reacts when something it runs against
// (an eval target, PostgreSQL, Chromium, a tool, a schema, the fixtures) is
// not there: it skips with the reason, unless RAMPART_EVAL=1 (set by
// .ci/run, which provides all of them), where it fails. Every such skip
// goes through Missing, so a run that must be complete cannot report ok
// for a test that did not run; internal/archtest forbids t.Skip,
// testing.Short and time.Sleep in tests outside this package. Test code
// only.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// EvalVar is the environment variable that makes every integration
// dependency required.
const EvalVar = "RAMPART_EVAL"

// Required reports whether every integration dependency must be present.
func Required() bool { return os.Getenv(EvalVar) == "1" }

// Missing skips t, or fails it when the dependencies are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("(%s=1) "+format, append([]any{EvalVar}, args...)...)
	}
	t.Skipf(format, args...)
}

// Short skips a long test under `go test -short`. With RAMPART_EVAL=1
// nothing may be left out, so -short is then an error.
func Short(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		Missing(t, "-short: %s", why)
	}
}

// Tool returns the path of the program name, looked up in PATH and then
// in /usr/sbin and /sbin (where sshd and nginx are, outside a non-root
// user's PATH); hint says how to install it.
func Tool(t testing.TB, name, hint string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s is not installed (%s)", name, hint)
	return ""
}

// Env returns the value of the environment variable name; hint says how
// to provide it.
func Env(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, "%s is not set (%s)", name, hint)
	}
	return v
}

// Root requires the test to run as root (network namespaces, nftables,
// files root alone may read); why says what for.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: %s", why)
	}
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
	d, err := sharedDir()
	if err != nil {
		Missing(t, "shared fixtures: %v", err)
	}
	return d
}

func sharedDir() (string, error) {
	if d := os.Getenv("RAMPART_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("RAMPART_SHARED: %w", err)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(shared); err != nil {
				return "", fmt.Errorf("%w (set RAMPART_SHARED)", err)
			}
			return shared, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// SharedFile returns the path of a file or directory under the shared
// directory (rel uses slashes: "fixtures/wso2/apim-4.1.0"). A path that
// is not there when the shared directory is, is a broken test, not a
// missing dependency: it fails.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Shared(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared %s: %v", rel, err)
	}
	return p
}

// WSO2Fixtures returns the directory of the WSO2 fixtures (the real
// default files of each product version).
func WSO2Fixtures(t testing.TB) string {
	t.Helper()
	return SharedFile(t, "fixtures/wso2")
}

// WSO2Fixture returns the path of a WSO2 fixture (the real default files
// of one product version), e.g. "apim-4.1.0".
func WSO2Fixture(t testing.TB, name string) string {
	t.Helper()
	return SharedFile(t, "fixtures/wso2/"+name)
}
