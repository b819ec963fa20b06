package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestRampartProcess is rampart's main when the test binary is re-run by
// runOnPTY: the real Run, with the real terminal detection, on the real
// terminal it was given.
func TestRampartProcess(t *testing.T) {
	if os.Getenv("RAMPART_TEST_MAIN") != "1" {
		t.Skip("run by the pty test")
	}
	args := strings.Split(os.Getenv("RAMPART_TEST_ARGS"), "\x1f")
	os.Exit(Run(context.Background(), args, os.Stdout, os.Stderr))
}

// openPTY opens a pseudo-terminal of the given size: the controlling side
// and the terminal the child gets.
func openPTY(t *testing.T, cols, rows uint16) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals here: %v", err)
	}
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, tty
}

// runOnPTY runs rampart with args on a terminal of cols columns and
// returns everything it wrote there (stdout and stderr) and its exit code.
func runOnPTY(t *testing.T, cols uint16, env []string, args ...string) (string, int) {
	t.Helper()
	ptmx, tty := openPTY(t, cols, 50)
	defer ptmx.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRampartProcess$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COLUMNS=") && !strings.HasPrefix(kv, "NO_COLOR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "RAMPART_TEST_MAIN=1", "RAMPART_TEST_ARGS="+strings.Join(args, "\x1f")), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var out bytes.Buffer
	// The read ends with EIO once the child and its terminal are gone.
	_, err := io.Copy(&out, ptmx)
	var pe *os.PathError
	if err != nil && !(errors.As(err, &pe) && errors.Is(pe.Err, syscall.EIO)) {
		t.Fatal(err)
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

var ansiSeq = regexp.MustCompile("\x1b\\[[0-9;]*[mK]")

// TestTerminalColoursAndWrapping: on a real terminal (a pty of 72 and then
// 132 columns) the report is coloured, statuses and severities both, and
// wraps to the terminal's width; COLUMNS overrides it, NO_COLOR turns
// colours off.
func TestTerminalColoursAndWrapping(t *testing.T) {
	apim := fixture(t, "apim-4.1.0")
	for _, c := range []struct {
		cols  uint16
		env   []string
		width int
		color bool
	}{
		{72, nil, 72, true},
		{132, nil, 132, true},
		{132, []string{"COLUMNS=90"}, 90, true},
		{72, []string{"NO_COLOR=1"}, 72, false},
	} {
		out, code := runOnPTY(t, c.cols, c.env, "scan", apim, "--only", "SEC-001,KEY-001,NET-002,TLS-008,LOG-003")
		if code != ExitFindings {
			t.Fatalf("%d columns %v: exit %d\n%s", c.cols, c.env, code, out)
		}
		for _, want := range []string{"\x1b[31mFAIL", "\x1b[1;31mcritical", "\x1b[31mhigh", "\x1b[34mlow", "\x1b[36mMANUAL", "\x1b[33mERROR"} {
			if strings.Contains(out, want) != c.color {
				t.Errorf("%d columns %v: %q present: %v, want %v", c.cols, c.env, want, !c.color, c.color)
			}
		}
		plain := ansiSeq.ReplaceAllString(out, "")
		widest := 0
		for _, line := range strings.Split(plain, "\n") {
			line = line[strings.LastIndexByte(line, '\r')+1:] // a progress line is overwritten
			widest = max(widest, utf8.RuneCountInString(line))
			if utf8.RuneCountInString(line) > c.width {
				t.Errorf("%d columns %v: a line of %d:\n%s", c.cols, c.env, utf8.RuneCountInString(line), line)
			}
		}
		// The text uses the room it has: the fixes and evidence fill lines.
		if widest < c.width-12 {
			t.Errorf("%d columns %v: the widest line is %d: not wrapped to the width", c.cols, c.env, widest)
		}
	}
}
