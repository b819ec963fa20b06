package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/report"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/waiver"
)

// smallScan is the most targets a scan may name to run with smallScanGC.
const (
	smallScan   = 4
	smallScanGC = 400
	// fleetGC and fleetMemoryLimit are the garbage collector's settings
	// for a fleet whose findings spill to a file: what it holds is the
	// targets being scanned (Concurrency at a time) and a line per target,
	// so it collects less often, under a soft limit well within the fleet
	// goal's 300 MiB.
	fleetGC          = 400
	fleetMemoryLimit = 192 << 20
)

type scanOpts struct {
	collectOpts
	ruleOpts
	format       string
	output       string
	failOn       string
	waivers      []string
	attestations []string
	verbose      bool
	quiet        bool
	severities   []string
	noColor      bool
	upload       uploadOpts
	// errorExitCode is the exit code of a scan in which nothing fails at or
	// above --fail-on but some rules ended in error.
	errorExitCode int
}

func (a *app) scanCmd() *cobra.Command {
	o := &scanOpts{}
	cmd := &cobra.Command{
		Use:   "scan [TARGET...]",
		Short: "Audit targets and report every guideline with its evidence and fix",
		Long: `Audit one or more targets. A TARGET is:
  DIR                     a product installation (WSO2 IS, API-M, MI): file checks
  host:port               a network endpoint: live TLS, HTTP and SSH probes
  https://host[:port]/    an HTTPS endpoint (also http://, ssh://)
  local                   this machine (the default): host checks, and the product
                          homes of the WSO2 processes found running on it
  @inventory.yaml         every target listed in an inventory file

Exit codes: 0 nothing fails at or above --fail-on; 1 failing findings at or
above it; 2 usage or configuration error (an ambiguous target such as
::1:9443, a directory that is not a product home, a bad rule, waiver or
inventory file); 3 no failing finding but some rules ended in error (the scan
was incomplete; --error-exit-code changes it). --fail-on none exits 0 even
then. A failed --upload is reported and leaves the scan's exit code, unless
--upload-required.`,
		Example: `  # audit this machine and the WSO2 products running on it
  rampart scan

  # audit an API Manager installation from its files
  rampart scan /opt/wso2am-4.1.0

  # audit a live endpoint from the DMZ, as SARIF for GitHub code scanning
  rampart scan https://gw.example.com:8243/ --role dmz -f sarif -o rampart.sarif

  # a whole deployment, failing the pipeline only on high and critical findings
  rampart scan @inventory.yaml --fail-on high --waivers waivers.yaml`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"local"}, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.perHostMaxSet = cmd.Flags().Changed("per-host-max")
			return a.runScan(cmd.Context(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of standard output")
	f.StringVar(&o.failOn, "fail-on", "low", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical, none")
	f.StringArrayVar(&o.waivers, "waivers", nil, "waivers file (YAML; repeatable)")
	f.StringArrayVar(&o.attestations, "attestations", nil, "attestations file (YAML; repeatable)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list passing and not-applicable findings too (text format)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "text and table formats: the summary only (each target's score and the counts)")
	f.StringSliceVar(&o.severities, "severity", nil, "show only findings of these severities, e.g. high,critical (a display filter: the exit code still follows --fail-on over every finding)")
	f.BoolVar(&o.noColor, "no-color", false, "no colours in text output (also: NO_COLOR=1)")
	f.IntVar(&o.errorExitCode, "error-exit-code", ExitIncomplete, "exit code when nothing fails at or above --fail-on but some rules ended in error (0 to accept an incomplete scan); --fail-on none always exits 0")
	o.collectOpts.register(cmd)
	o.ruleOpts.register(cmd, a)
	o.upload.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(report.Formats()))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletion([]string{"info", "low", "medium", "high", "critical", "none"}))
	_ = cmd.RegisterFlagCompletionFunc("severity", fixedCompletion([]string{"info", "low", "medium", "high", "critical"}))
	return cmd
}

func (a *app) runScan(ctx context.Context, o *scanOpts, args []string) error {
	if err := o.collectOpts.validate(); err != nil {
		return err
	}
	if err := o.upload.validate(a.getenv); err != nil {
		return err
	}
	threshold, err := finding.ParseSeverity(o.failOn)
	if err != nil {
		return usageErr("--fail-on: %v", err)
	}
	if o.errorExitCode < 0 || o.errorExitCode > 125 {
		return usageErr("--error-exit-code %d: want 0-125", o.errorExitCode)
	}
	shown, err := parseSeverities(o.severities)
	if err != nil {
		return err
	}
	renderer, err := report.New(o.format, report.Options{Color: a.color(o), Verbose: o.verbose, Quiet: o.quiet, Width: a.width(o.output)})
	if err != nil {
		return usageErr("--format: %v", err)
	}
	set, err := a.loadRules(&o.ruleOpts)
	if err != nil {
		return err
	}
	selected, err := filterRules(set, &o.ruleOpts)
	if err != nil {
		return err
	}
	exceptions := &waiver.Set{}
	for _, p := range o.waivers {
		wf, err := readWaivers(p, set.Has, set.IDs())
		if err != nil {
			return err
		}
		if len(wf.Attestations) > 0 {
			return usageErr("%s: attestations belong in an --attestations file", p)
		}
		exceptions.Add(wf)
	}
	for _, p := range o.attestations {
		wf, err := readWaivers(p, set.Has, set.IDs())
		if err != nil {
			return err
		}
		if len(wf.Waivers) > 0 {
			return usageErr("%s: waivers belong in a --waivers file", p)
		}
		exceptions.Add(wf)
	}
	targets, err := o.targets(args)
	if err != nil {
		return err
	}
	for _, w := range exceptions.Misplaced(ruleKinds(set)) {
		a.warn(w)
	}
	a.logger.Info("scanning", "targets", describeTargets(targets), "rules", len(selected))
	if len(targets) <= smallScan && a.getenv("GOGC") == "" {
		// A scan of a few targets allocates a few tens of MiB and is over
		// in well under a second: collecting garbage less often saves
		// about a fifth of its CPU. A fleet does so only when its findings
		// spill (below), under a memory limit.
		defer debug.SetGCPercent(debug.SetGCPercent(smallScanGC))
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	s := a.scanner(&o.collectOpts)
	s.DropFacts = true // only the report is rendered: release each target's facts once judged
	// A fleet's findings wait in a temporary file for the JSON renderer,
	// which streams them (the other formats and an upload take them all at
	// once).
	s.SpillFindings = o.format == "json" && o.upload.url == "" && len(targets) > smallScan
	if s.SpillFindings && a.getenv("GOGC") == "" && a.getenv("GOMEMLIMIT") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(fleetGC))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(fleetMemoryLimit))
	}
	s.Rules = selected
	s.Collectors = scan.ForRules(s.Collectors, selected)
	s.Exceptions = exceptions
	fleetHostLimit(&s.Env, &o.collectOpts, len(targets))
	var (
		warnMu   sync.Mutex
		warnings []string
	)
	s.Warn = func(msg string) {
		warnMu.Lock()
		defer warnMu.Unlock()
		warnings = append(warnings, msg)
	}
	if a.isTerminal(a.stderr) && o.output != "-" && !o.quiet {
		width := 0
		if a.termWidth != nil {
			width = a.termWidth(a.stderr)
		}
		p := newProgress(a.stderr, width, a.now)
		s.Progress = p.targets
		s.Env.PortProgress = p.portsOf
	}
	drawn := s.Progress != nil
	if a.targetDone != nil {
		draw := s.Progress
		s.Progress = func(done, total int, name string) {
			if draw != nil {
				draw(done, total, name)
			}
			a.targetDone(done, total, name)
		}
	}
	res := s.Run(ctx, targets)
	defer res.Report.Close()
	if drawn {
		fmt.Fprint(a.stderr, "\r\x1b[K")
	}
	sort.Strings(warnings)
	for _, w := range append(warnings, unusedExceptions(res.Report, exceptions)...) {
		a.warn(w)
	}
	if err := writeOutput(o.output, a.stdout, func(w io.Writer) error { return renderer.Render(w, res.Report.OnlySeverities(shown)) }); err != nil {
		return exitCode(ExitUsage, err)
	}
	scanErr := verdict(res.Report, threshold, o.errorExitCode, interrupted(parent))
	if err := res.Report.Err(); err != nil {
		// Findings lost on the way through the temporary file: the report
		// and the verdict are incomplete and must not pass.
		return exitCode(ExitUsage, err)
	}
	if o.upload.url != "" {
		msg, err := o.upload.send(ctx, res.Report, a.getenv)
		if err != nil {
			// A failed upload is reported; the exit code stays the scan's
			// (a pipeline gating on findings must not pass or fail on the
			// server's mood) unless the upload is required.
			if o.upload.required {
				return exitCode(ExitUsage, fmt.Errorf("%w (--upload-required)", err))
			}
			fmt.Fprintf(a.stderr, "rampart: %v; the exit code is the scan's (--upload-required to fail on this)\n", err)
		} else {
			fmt.Fprintln(a.stderr, "rampart: "+msg)
		}
	}
	return scanErr
}

// fleetHostLimit keeps every host's window at --per-host in a scan of more
// targets than run at once (unless --per-host-max was given): the workers
// then keep the CPU busy, and a wider window only opens more connections
// per endpoint (each HTTPS one a TLS handshake) for no gain in throughput.
// A fleet of 1,000 endpoints took 25% less CPU and a third less time so,
// with the same report.
func fleetHostLimit(env *collect.Env, o *collectOpts, targets int) {
	if targets > o.concurrency && !o.perHostMaxSet {
		env.PerHostMax = env.PerHost
	}
}

// unusedExceptions is exceptions.Unused over the report's findings, reading
// only those of the rules the waivers and attestations name.
func unusedExceptions(r *finding.Report, ex *waiver.Set) []string {
	named := map[string]bool{}
	for _, e := range append(append([]waiver.Entry(nil), ex.Waivers...), ex.Attestations...) {
		named[e.Rule] = true
	}
	var fs []finding.Finding
	if len(named) > 0 {
		_ = r.Each(func(f *finding.Finding) error {
			if named[f.RuleID] {
				fs = append(fs, finding.Finding{RuleID: f.RuleID, Target: f.Target})
			}
			return nil
		})
	}
	return ex.Unused(fs)
}

// interrupted reports whether the scan was stopped by the user (the
// context main cancels on SIGINT or SIGTERM), rather than by its deadline.
func interrupted(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// verdict turns a report into the exit code: ExitFindings when a finding
// fails at or above threshold; errorCode when rules ended in error (or
// the scan was stopped) and nothing fails; 0 otherwise. --fail-on none
// never fails on findings nor on errors (they are still reported); only
// a scan the user interrupted still exits errorCode.
func verdict(r *finding.Report, threshold finding.Severity, errorCode int, stopped bool) error {
	if len(r.Failing(threshold)) > 0 {
		return exitCode(ExitFindings, nil)
	}
	incomplete := r.HasStatus(finding.Error) || r.Interrupted
	if stopped || (incomplete && threshold != finding.None) {
		if errorCode == ExitOK {
			return nil
		}
		return exitCode(errorCode, nil)
	}
	return nil
}

// warn tells the user something about their input that does not stop the
// scan.
func (a *app) warn(msg string) {
	fmt.Fprintf(a.stderr, "rampart: warning: %s\n", msg)
}

// ruleKinds says, for the waiver checks, whether a rule has automated and
// manual checks.
func ruleKinds(set *rules.Set) waiver.RuleKinds {
	return func(id string) (automated, manual, ok bool) {
		r, found := set.Get(id)
		if !found {
			return false, false, false
		}
		for _, c := range r.Checks {
			if c != nil && c.Kind == rules.KindManual {
				manual = true
			}
		}
		return r.Automated(), manual, true
	}
}

// parseSeverities reads --severity: severity names, comma-separated.
func parseSeverities(names []string) ([]finding.Severity, error) {
	var out []finding.Severity
	for _, n := range names {
		s, err := finding.ParseSeverity(strings.ToLower(strings.TrimSpace(n)))
		if err != nil || s == finding.None {
			return nil, usageErr("--severity %q: want info, low, medium, high or critical (comma-separated)", n)
		}
		out = append(out, s)
	}
	return out, nil
}

// width is the line width of the human formats: $COLUMNS when set, else
// the terminal's when writing to one, else report.DefaultWidth.
func (a *app) width(output string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(a.getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if (output == "" || output == "-") && a.termWidth != nil {
		if n := a.termWidth(a.stdout); n > 0 {
			return n
		}
	}
	return report.DefaultWidth
}

func (a *app) color(o *scanOpts) bool {
	if o.noColor || a.getenv("NO_COLOR") != "" || (o.format != "text" && o.format != "table") || (o.output != "" && o.output != "-") {
		return false
	}
	return a.isTerminal(a.stdout)
}

func readWaivers(path string, known func(string) bool, ids []string) (*waiver.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	defer f.Close()
	wf, err := waiver.ParseSuggest(f, path, known, ids)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return wf, nil
}
