// Package cli is rampart's command line: the only place that reads flags
// and the environment and decides exit codes. Run is main's whole body, so
// every command is testable in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
)

// Exit codes. They are part of rampart's contract with CI pipelines.
const (
	// ExitOK: nothing fails at or above --fail-on, and the scan was complete.
	ExitOK = 0
	// ExitFindings: at least one finding fails at or above --fail-on (or a
	// rule test or lint problem for `rules test` / `rules lint`).
	ExitFindings = 1
	// ExitUsage: a usage or configuration error (bad flag, unreadable rule
	// file, bad inventory, waiver or attestation file, unknown format).
	ExitUsage = 2
	// ExitIncomplete: nothing fails at or above --fail-on, but some rules
	// ended in error: the scan could not tell everything.
	ExitIncomplete = 3
)

// exitError carries an exit code up to Run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

func exitCode(code int, err error) error { return &exitError{code: code, err: err} }

// deps are what the commands take from the world; tests replace them.
type deps struct {
	now        func() time.Time
	getenv     func(string) string
	isTerminal func(w io.Writer) bool
	// termWidth is the width of the terminal w is, 0 when it is none.
	termWidth func(w io.Writer) int
	// collectors builds the collectors; nil means the build's own list.
	collectors func() []collect.Collector
	dialer     collect.Dialer
	// fixKeys makes the key pairs `rampart fix` installs (nil: fresh
	// random keys; tests give fixed ones).
	fixKeys keygen.Source
	// targetDone, when set, is told of every target a scan finished
	// (judged and in the report), with how many of how many are done:
	// tests synchronise on it.
	targetDone func(done, total int, name string)
}

func defaultDeps() deps {
	return deps{
		now:    time.Now,
		getenv: os.Getenv,
		isTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
		termWidth: func(w io.Writer) int {
			f, ok := w.(*os.File)
			if !ok {
				return 0
			}
			width, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0
			}
			return width
		},
	}
}

// Run runs rampart with args (without the program name) and returns the
// exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, defaultDeps())
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, d deps) int {
	app := &app{deps: d, stdout: stdout, stderr: stderr}
	root := app.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "rampart: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong number
	// of arguments) is a usage error.
	fmt.Fprintf(stderr, "rampart: %v\n", err)
	if strings.Contains(err.Error(), "unknown") || strings.Contains(err.Error(), "arg") || strings.Contains(err.Error(), "flag") {
		fmt.Fprintf(stderr, "Run 'rampart --help' for usage.\n")
	}
	return ExitUsage
}

// app holds the state shared by the commands of one invocation.
type app struct {
	deps
	stdout, stderr io.Writer
	logLevel       string
	logger         *slog.Logger
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "rampart",
		Short: "Audit a production deployment against security hardening guidelines",
		Long: `rampart audits a production deployment against security hardening guidelines
(WSO2 Identity Server, API Manager, Micro Integrator, internet-facing webhook
receivers, and the Linux hosts they run on). It gathers evidence from the
product's own files, the host and the network in one run, judges every
guideline, and reports each finding with its evidence and its fix.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
				return usageErr("--log-level %q: want debug, info, warn or error", a.logLevel)
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl}))
			return nil
		},
	}
	// rampart --version prints what `rampart version` does.
	root.Version = version()
	root.SetVersionTemplate(versionLine() + "\n")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error (logs go to stderr)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(a.scanCmd(), a.factsCmd(), a.fixCmd(), a.rulesCmd(), a.versionCmd(), a.diffCmd(), a.serveCmd(), a.agentCmd())
	return root
}
