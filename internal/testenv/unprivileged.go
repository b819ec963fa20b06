package testenv

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// childVar marks the test binary run again by Unprivileged.
const childVar = "RAMPART_TESTENV_UNPRIVILEGED"

// nobody is the unprivileged user and group the child runs as.
const nobody = 65534

// Unprivileged makes the calling test run without root's privileges, for
// what root would get past (a mode-000 file root reads anyway). Run as
// root, it runs the test again in a child process, as the user nobody,
// from a copy of the test binary nobody may execute, and returns true once
// that child passed (its failure fails t; its skip is reported through
// Missing): the caller then returns. Run as any other user it returns
// false and the caller goes on with the test itself. Files the test reads
// must be readable by nobody (the shared fixtures are).
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	if os.Getenv(childVar) != "" {
		t.Fatalf("%s is set but the test runs as root", childVar)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parent directory is root's alone.
	dir, err := os.MkdirTemp("", "rampart-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(self))
	if err := copyFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command(bin, "-test.run="+strings.Join(parts, "/"), "-test.v=true", "-test.count=1")
	cmd.Env = append(os.Environ(), childVar+"=1", "HOME=/nonexistent", "TMPDIR=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := out.String()
	switch {
	case err != nil:
		t.Fatalf("as the user nobody: %v\n%s", err, text)
	case strings.Contains(text, "--- SKIP: "+t.Name()):
		Missing(t, "as the user nobody, skipped:\n%s", text)
	case !strings.Contains(text, "--- PASS: "+t.Name()):
		t.Fatalf("as the user nobody, the test did not pass:\n%s", text)
	}
	t.Logf("ran as the user nobody:\n%s", text)
	return true
}

func copyFile(from, to string, mode os.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
