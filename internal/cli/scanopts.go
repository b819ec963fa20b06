package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/cmdexec"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/target"
)

// collectOpts are the flags shared by scan and facts: how targets are
// reached and collected.
type collectOpts struct {
	root        string
	role        string
	profile     string
	timeout     time.Duration
	concurrency int
	perHost     int
	perHostMax  int
	// perHostMaxSet: --per-host-max was given (a fleet scan otherwise
	// keeps every host at --per-host: see fleetHostLimit).
	perHostMaxSet bool
	intrusive     bool
	caBundle      string
	ports         string
	rate          float64
	certWarnDays  int
	backupMaxDays int
}

func (o *collectOpts) register(cmd *cobra.Command) {
	o.registerCollect(cmd)
	// Thresholds and declarations that only judging reads.
	f := cmd.Flags()
	f.StringVar(&o.role, "role", "", "the vantage point this scan runs from: dmz, internal or management (exposure rules judge by it)")
	f.IntVar(&o.certWarnDays, "cert-warn-days", 30, "fail KEY-006 when a certificate expires within this many days")
	f.IntVar(&o.backupMaxDays, "backup-max-age", 7, "fail OS-006 when the newest backup is older than this many days")
	_ = cmd.RegisterFlagCompletionFunc("role", fixedCompletion(target.Roles()))
}

// registerCollect registers the flags that decide what is collected and
// how: all that `rampart facts` takes.
func (o *collectOpts) registerCollect(cmd *cobra.Command) {
	o.certWarnDays, o.backupMaxDays = 30, 7
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "", "audit a root file system mounted at this directory instead of / (with the local target)")
	f.StringVar(&o.profile, "profile", "", "force a profile instead of auto-detection: "+strings.Join(target.Profiles(), ", "))
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "deadline for the whole scan; each collector on each target gets the same bound")
	f.IntVar(&o.concurrency, "concurrency", 8, "how many targets to scan at once")
	f.IntVar(&o.perHost, "per-host", 5, "how many connections to one host at once, at first")
	f.IntVar(&o.perHostMax, "per-host-max", 16, "how many connections to one host at once at most: a host that answers within 50 ms gets one more per fast answer, up to this (--per-host-max equal to --per-host: never more; a scan of more targets than --concurrency stays at --per-host unless this is given)")
	f.BoolVar(&o.intrusive, "intrusive", false, "allow active checks that act on the target (one login attempt with default credentials per login endpoint)")
	f.StringVar(&o.caBundle, "ca-bundle", "", "PEM file of extra trusted CA certificates for certificate checks")
	f.StringVar(&o.ports, "ports", "top", "ports to scan on bare hosts of an inventory: top, 1-65535, or a list such as 22,443,9443-9445")
	f.Float64Var(&o.rate, "rate", 0, "cap port-scan connection attempts per second across the scan (0: no cap)")
	_ = cmd.RegisterFlagCompletionFunc("profile", fixedCompletion(target.Profiles()))
}

func fixedCompletion(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func (o *collectOpts) validate() error {
	if o.role != "" && !slices.Contains(target.Roles(), o.role) {
		return usageErr("--role %q: want one of %s", o.role, strings.Join(target.Roles(), ", "))
	}
	if o.profile != "" && !slices.Contains(target.Profiles(), o.profile) {
		return usageErr("--profile %q: want one of %s", o.profile, strings.Join(target.Profiles(), ", "))
	}
	if o.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	if o.concurrency < 1 || o.perHost < 1 {
		return usageErr("--concurrency and --per-host must be at least 1")
	}
	if o.perHostMax < o.perHost && o.perHostMax != 0 {
		o.perHostMax = o.perHost
	}
	if o.rate < 0 {
		return usageErr("--rate must not be negative")
	}
	if _, err := target.ParsePorts(o.ports); err != nil {
		return usageErr("--ports: %v", err)
	}
	if o.caBundle != "" {
		if err := checkCABundle(o.caBundle); err != nil {
			return err
		}
	}
	if o.root != "" {
		fi, err := os.Stat(o.root)
		if err != nil || !fi.IsDir() {
			return usageErr("--root %q is not a directory", o.root)
		}
	}
	return nil
}

// targets parses the TARGET arguments ("local" when there are none).
func (o *collectOpts) targets(args []string) ([]target.Target, error) {
	if len(args) == 0 {
		args = []string{"local"}
	}
	var out []target.Target
	var notHome []string
	for _, a := range args {
		ts, err := target.Parse(a, o.root)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		for i := range ts {
			if ts[i].Decl.Ports == "" {
				ts[i].Decl.Ports = o.ports
			}
			// A directory that is not a product home (its parent, its
			// repository/, an empty folder) is a mistake to point out,
			// not a scan that ends in errors.
			if ts[i].Kind == target.Directory {
				if err := target.CheckHome(ts[i].Dir); err != nil {
					notHome = append(notHome, err.Error())
				}
			}
		}
		out = append(out, ts...)
	}
	if len(notHome) > 0 {
		return nil, usageErr("%s", strings.Join(notHome, "\n"))
	}
	return out, nil
}

// scanner builds the scanner for these options.
func (a *app) scanner(o *collectOpts) *scan.Scanner {
	cs := a.collectors
	var list []collect.Collector
	if cs != nil {
		list = cs()
	} else {
		list = scan.Collectors(scan.Config{Version: version(), PortRate: o.rate})
	}
	var dialer collect.Dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	if a.dialer != nil {
		dialer = a.dialer
	}
	sc := facts.DefaultScan(time.Time{})
	sc.Intrusive = o.intrusive
	sc.CertWarnDays = o.certWarnDays
	sc.BackupMaxAgeDays = o.backupMaxDays
	return &scan.Scanner{
		Collectors: list,
		Env: collect.Env{
			Dialer:     dialer,
			Now:        a.now,
			Logger:     a.logger,
			Timeout:    o.timeout,
			PerHost:    o.perHost,
			PerHostMax: o.perHostMax,
			Intrusive:  o.intrusive,
			CABundle:   o.caBundle,
			Exec:       a.executor(o),
		},
		Scan:        sc,
		Timeout:     o.timeout,
		Concurrency: o.concurrency,
		Role:        o.role,
		Profile:     o.profile,
		Tool:        tool(),
	}
}

// executor allows the allow-listed read-only commands (sshd -T, nft -j list
// ruleset, ...) only when auditing this machine: a mounted image's
// binaries are never run.
func (a *app) executor(o *collectOpts) collect.Executor {
	if o.root != "" && o.root != "/" {
		return nil
	}
	return cmdexec.New(cmdexec.Options{})
}

func describeTargets(ts []target.Target) string {
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, fmt.Sprintf("%s (%s)", t.Name, t.Kind))
	}
	return strings.Join(names, ", ")
}

// maxCABundle bounds a --ca-bundle file; a system bundle is a few hundred
// kilobytes.
const maxCABundle = 16 << 20

// checkCABundle refuses a --ca-bundle that holds no certificate: trusting
// nothing extra while the user believes their CA is trusted would turn every
// certificate check of their internal endpoints into a false failure.
func checkCABundle(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErr("--ca-bundle: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCABundle+1))
	if err != nil {
		return usageErr("--ca-bundle: %v", err)
	}
	if len(data) > maxCABundle {
		return usageErr("--ca-bundle %s: larger than %d bytes", path, maxCABundle)
	}
	certs, bad := 0, 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			bad++
			continue
		}
		certs++
	}
	if certs > 0 {
		return nil
	}
	hint := "a PEM bundle holds -----BEGIN CERTIFICATE----- blocks"
	switch {
	case bad > 0:
		hint = fmt.Sprintf("%d certificate block(s) could not be parsed", bad)
	case len(data) > 0 && data[0] == 0x30:
		hint = "it looks like DER: convert it with `openssl x509 -inform der -in " + path + " -out ca.pem`"
	case bytes.Contains(data, []byte("PRIVATE KEY")):
		hint = "it holds a private key, not a CA certificate"
	}
	return usageErr("--ca-bundle %s holds no certificate (%s)", path, hint)
}
