package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// image builds a small root with absolute and relative links, as a
// mounted image has them.
func image(t *testing.T) *Root {
	t.Helper()
	d := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(d, "usr/lib/jvm/jdk-17/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(d, "etc/alternatives"), 0o755))
	must(os.MkdirAll(filepath.Join(d, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(d, "usr/lib/jvm/jdk-17/release"), []byte("JAVA_VERSION=\"17.0.15\"\n"), 0o644))
	must(os.WriteFile(filepath.Join(d, "usr/lib/jvm/jdk-17/bin/java"), []byte("ELF"), 0o755))
	// Absolute links: on the scanning machine they would point elsewhere.
	must(os.Symlink("/usr/lib/jvm/jdk-17/bin/java", filepath.Join(d, "etc/alternatives/java")))
	must(os.Symlink("/etc/alternatives/java", filepath.Join(d, "usr/bin/java")))
	must(os.Symlink("../../../../../../../etc/passwd-host", filepath.Join(d, "etc/escape")))
	must(os.Symlink("loop2", filepath.Join(d, "etc/loop1")))
	must(os.Symlink("loop1", filepath.Join(d, "etc/loop2")))
	must(os.WriteFile(filepath.Join(d, "etc/passwd-host"), []byte("inside"), 0o644))
	root, err := os.OpenRoot(d)
	must(err)
	t.Cleanup(func() { root.Close() })
	return New(root.FS(), d)
}

func TestResolveInsideRoot(t *testing.T) {
	r := image(t)
	got, err := r.Resolve("/usr/bin/java")
	if err != nil || got != "/usr/lib/jvm/jdk-17/bin/java" {
		t.Fatalf("Resolve = %q, %v", got, err)
	}
	b, err := r.ReadFile("/usr/bin/../lib/jvm/jdk-17/release", 1024)
	if err != nil || string(b) != "JAVA_VERSION=\"17.0.15\"\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	// ".." stops at the root, as in chroot.
	b, err = r.ReadFile("/etc/escape", 1024)
	if err != nil || string(b) != "inside" {
		t.Fatalf("escape read %q, %v", b, err)
	}
}

func TestResolveLoop(t *testing.T) {
	r := image(t)
	_, err := r.ReadFile("/etc/loop1", 1024)
	if !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("err = %v, want ELOOP", err)
	}
}

func TestReadFileLimit(t *testing.T) {
	r := image(t)
	_, err := r.ReadFile("/usr/lib/jvm/jdk-17/release", 4)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if _, err := r.ReadFile("/etc", 10); err == nil {
		t.Fatal("reading a directory must fail")
	}
}

func TestLiveProcSelf(t *testing.T) {
	root, err := os.OpenRoot("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r := New(root.FS(), "/")
	b, err := r.ReadFile("/proc/self/cmdline", 1<<20)
	if err != nil || len(b) == 0 {
		t.Fatalf("/proc/self/cmdline: %q, %v", b, err)
	}
	if _, err := r.ReadFile("/proc/net/tcp", 1<<24); err != nil {
		t.Fatalf("/proc/net/tcp: %v", err)
	}
}
