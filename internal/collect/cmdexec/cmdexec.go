// Package cmdexec runs the few programs rampart may run on a host: a fixed
// allow-list of program names with fixed argument lists, looked up in fixed
// directories (never $PATH), started with argv and no shell, with an empty
// environment apart from a C locale, no standard input, a timeout and a cap
// on the output kept. It implements collect.Executor.
package cmdexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultDirs are where allow-listed programs are looked up, in order.
var defaultDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// allowedArgs are the argument lists a program may be run with. Every
// entry reads state; none changes it.
func allowedArgs(k string) ([][]string, bool) {
	switch k {
	case "sshd":
		return [][]string{{"-T"}}, true
	case "nft":
		return [][]string{{"-j", "list", "ruleset"}}, true
	case "iptables-save":
		return [][]string{{}}, true
	case "ip6tables-save":
		return [][]string{{}}, true
	case "rpm":
		return [][]string{{"-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`}}, true
	}
	return nil, false
}

// Allowed reports whether name with args is on the allow-list.
func Allowed(name string, args ...string) bool {
	lists, _ := allowedArgs(name)
	for _, a := range lists {
		if slices.Equal(a, args) {
			return true
		}
	}
	return false
}

// Options tune an Executor; zero values take the defaults.
type Options struct {
	// Dirs are searched for the program, in order (default /usr/sbin,
	// /usr/bin, /sbin, /bin). Tests point this at a temporary directory.
	Dirs []string
	// Timeout bounds each run (default 10s); a context deadline that comes
	// sooner wins.
	Timeout time.Duration
	// MaxOutput caps the standard output kept (default 8 MiB); a program
	// that writes more is stopped and the run fails.
	MaxOutput int
}

// Executor runs allow-listed programs. It is safe for concurrent use.
type Executor struct {
	opts Options
}

// New returns an Executor.
func New(opts Options) *Executor {
	if len(opts.Dirs) == 0 {
		opts.Dirs = defaultDirs
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = 8 << 20
	}
	return &Executor{opts: opts}
}

// Errors a caller can tell apart with errors.Is.
var (
	// ErrNotAllowed: the program or its arguments are not on the allow-list.
	ErrNotAllowed = errors.New("command not allowed")
	// ErrNotFound: the program is not installed in any of the directories.
	ErrNotFound = errors.New("program not installed")
	// ErrTimeout: the program did not finish in time and was killed.
	ErrTimeout = errors.New("command timed out")
	// ErrOutputTooLarge: the program wrote more than MaxOutput bytes.
	ErrOutputTooLarge = errors.New("command output too large")
)

// Lookup returns the path of an allow-listed program, or ErrNotFound.
func (e *Executor) Lookup(name string) (string, error) {
	if _, ok := allowedArgs(name); !ok || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("%s: %w", name, ErrNotAllowed)
	}
	for _, d := range e.opts.Dirs {
		p := filepath.Join(d, name)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w (looked in %s)", name, ErrNotFound, strings.Join(e.opts.Dirs, ", "))
}

// Run runs name with args and returns its standard output. A non-zero exit
// is an error that carries the first line of standard error.
func (e *Executor) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	display := strings.TrimSpace(name + " " + strings.Join(args, " "))
	if !Allowed(name, args...) {
		return nil, fmt.Errorf("run %s: %w", display, ErrNotAllowed)
	}
	path, err := e.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", display, err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()

	stdout := newCapped(e.opts.MaxOutput)
	stderr := newCapped(4096)
	cmd := exec.Command(path, args...)
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Own process group, so a timeout kills any children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", display, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		killGroup(cmd)
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("run %s: %w", display, ErrTimeout)
		}
		return nil, fmt.Errorf("run %s: %w", display, ctx.Err())
	case <-stdout.full:
		killGroup(cmd)
		<-done
		return nil, fmt.Errorf("run %s: %w (more than %d bytes)", display, ErrOutputTooLarge, e.opts.MaxOutput)
	}
	if stdout.overflow() {
		return nil, fmt.Errorf("run %s: %w (more than %d bytes)", display, ErrOutputTooLarge, e.opts.MaxOutput)
	}
	if werr != nil {
		msg := strings.TrimSpace(firstLine(stderr.buf.String()))
		if msg != "" {
			return stdout.buf.Bytes(), fmt.Errorf("run %s: %w: %s", display, werr, msg)
		}
		return stdout.buf.Bytes(), fmt.Errorf("run %s: %w", display, werr)
	}
	return stdout.buf.Bytes(), nil
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	// Negative pid: the whole process group the child leads.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// capped keeps at most max bytes and signals full once when more arrive.
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
	full chan struct{}
}

func newCapped(max int) *capped { return &capped{max: max, full: make(chan struct{})} }

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		if !c.over {
			c.over = true
			close(c.full)
		}
		return 0, ErrOutputTooLarge
	}
	return c.buf.Write(p)
}

func (c *capped) overflow() bool { return c.over }
