package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rampart-sec/rampart/internal/testenv"
)

func render(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestOutputOntoCharDevice: -o onto a character device (a null device made
// with mknod in a temp dir), directly or through a symlink, writes through
// it and leaves it a device: the old rename-over turned /dev/null into a
// regular file.
func TestOutputOntoCharDevice(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		if errors.Is(err, syscall.EPERM) {
			testenv.Missing(t, "mknod needs root (CAP_MKNOD): %v", err)
		}
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(dev, link); err != nil {
		t.Fatal(err)
	}
	apim := fixture(t, "apim-4.1.0")
	for _, out := range []string{dev, link} {
		r := runCLI(t, nil, false, "scan", apim, "--only", "SEC-001", "-f", "json", "-o", out)
		if r.code != ExitFindings {
			t.Fatalf("-o %s: exit %d: %s", out, r.code, r.stderr)
		}
		fi, err := os.Stat(dev)
		if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Mode()&os.ModeDevice == 0 {
			t.Fatalf("-o %s: %s is no longer a character device: %v %v", out, dev, fi.Mode(), err)
		}
		if lfi, err := os.Lstat(link); err != nil || lfi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("-o %s: the symlink was replaced: %v", out, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestOutputOntoFIFO: a FIFO is written through (a reader gets the
// report) and stays a FIFO.
func TestOutputOntoFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := writeOutput(fifo, nil, render("report\n")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "report\n" {
		t.Fatalf("reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("no longer a FIFO: %v", err)
	}
}

// TestOutputModes: a new report is 0644 minus the umask, not 0600; a
// replaced one keeps its mode; a symlink to a file stays a symlink and the
// file it points to gets the report.
func TestOutputModes(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := writeOutput(p, nil, render("one")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Fatalf("new report mode %v, want 0640 under umask 027", fi.Mode().Perm())
	}
	syscall.Umask(0o022)
	q := filepath.Join(dir, "q.json")
	if err := writeOutput(q, nil, render("one")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(q); fi.Mode().Perm() != 0o644 {
		t.Fatalf("new report mode %v, want 0644 under umask 022", fi.Mode().Perm())
	}
	if err := os.Chmod(q, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeOutput(q, nil, render("two")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(q); fi.Mode().Perm() != 0o600 || mustRead(t, q) != "two" {
		t.Fatalf("replaced report: mode %v, content %q", fi.Mode().Perm(), mustRead(t, q))
	}
	link := filepath.Join(dir, "latest.json")
	if err := os.Symlink(q, link); err != nil {
		t.Fatal(err)
	}
	if err := writeOutput(link, nil, render("three")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 || mustRead(t, q) != "three" {
		t.Fatal("the symlink was replaced, or its file not written")
	}
	// A failed render leaves the old report and no temporary file.
	if err := writeOutput(q, nil, func(io.Writer) error { return errors.New("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failed render: %v", err)
	}
	if mustRead(t, q) != "three" {
		t.Fatal("a failed render replaced the report")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if err := writeOutput(dir, nil, render("x")); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory as output: %v", err)
	}
}
