package cli

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/hostfix"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	fixrender "github.com/rampart-sec/rampart/internal/fix/render"
	"github.com/rampart-sec/rampart/internal/fix/wso2fix"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/target"
)

type fixOpts struct {
	collectOpts
	only, skip    []string
	apply         bool
	undo          string
	format        string
	output        string
	noColor       bool
	hostname      string
	adminUser     string
	keyType       string
	csr           bool
	portOffset    int
	vaultCert     string
	managementNet []string
	sshPort       int
	portOffsetSet bool
}

func fixFormats() []string { return []string{"diff", "json", "ansible"} }

func (a *app) fixCmd() *cobra.Command {
	o := &fixOpts{}
	cmd := &cobra.Command{
		Use:   "fix [TARGET...]",
		Short: "Write the changes that make failing rules pass, as a reviewable diff; --apply writes them",
		Long: `Scan the targets, then produce the changes that turn each failing rule with a
known fix into a pass: edits of the product's own files (deployment.toml,
log4j2.properties, web.xml templates, the start script), secrets moved into
Secure Vault and encrypted as the cipher tool does, a new keystore and a
cleaned truststore, and for a host an sshd drop-in, an nftables ruleset,
audit rules and package commands, each checked with the real tool.

The default is a dry run: a unified diff and a summary per rule (fixed,
needs input: what to pass, manual: why no safe automatic fix exists).
--apply writes every change or none (each file must still be as scanned),
keeping a backup FILE.rampart-YYYYMMDDTHHMMSS of each file it changes;
--undo STAMP restores them. Nothing is run on the host.

Exit codes: 0 nothing to fix, or every failing rule has its fix (applied with
--apply); 1 some rules need input or a manual fix; 2 usage or configuration
error, or a fix failed (then nothing is written).`,
		Example: `  # review the changes for an Identity Server home
  rampart fix /opt/wso2is-7.1.0 --hostname login.example.com

  # apply them (backups FILE.rampart-STAMP), then undo
  rampart fix /opt/wso2is-7.1.0 --hostname login.example.com --apply
  rampart fix /opt/wso2is-7.1.0 --undo 20260301T120000

  # only the TLS rules, as JSON; the host's fixes as an Ansible playbook
  rampart fix /opt/wso2am-4.5.0 --only 'TLS-*' --format json
  rampart fix @inventory.yaml --format ansible -o rampart-fix.yml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.portOffsetSet = cmd.Flags().Changed("port-offset")
			return a.runFix(cmd.Context(), o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.apply, "apply", false, "write the changes (atomically, with backups FILE.rampart-STAMP)")
	f.StringVar(&o.undo, "undo", "", "restore the files a --apply with this backup stamp changed (YYYYMMDDTHHMMSS)")
	f.StringSliceVar(&o.only, "only", nil, "fix only these rule IDs (comma-separated; * and ? match)")
	f.StringSliceVar(&o.skip, "skip", nil, "leave these rule IDs alone (comma-separated; * and ? match)")
	f.StringVarP(&o.format, "format", "f", "diff", "output: "+strings.Join(fixFormats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the output to this file instead of standard output")
	f.BoolVar(&o.noColor, "no-color", false, "no colours in the diff (also: NO_COLOR=1)")
	f.StringVar(&o.hostname, "hostname", "", "the product's public host name ([server] hostname, certificates, callback patterns); with an inventory, for the targets whose entry names none")
	f.StringVar(&o.adminUser, "admin-user", "", "rename the default administrator to this name")
	f.StringVar(&o.keyType, "key-type", keygen.RSA3072, "new TLS key: rsa (RSA 3072) or ec (EC P-256)")
	f.BoolVar(&o.csr, "csr", false, "write a certificate signing request beside the new keystore, for your CA")
	f.IntVar(&o.portOffset, "port-offset", 0, "move the product off its default ports by this offset ([server] offset)")
	f.StringVar(&o.vaultCert, "vault-cert", "", "PEM certificate of the keystore entry Secure Vault uses, when that keystore is not in the product home")
	f.IntVar(&o.sshPort, "ssh-port", 0, "move sshd to this port (SSH-001)")
	f.StringSliceVar(&o.managementNet, "management-net", nil, "management network(s) allowed to reach SSH in the host firewall (CIDR, comma-separated)")
	o.collectOpts.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(fixFormats()))
	_ = cmd.RegisterFlagCompletionFunc("key-type", fixedCompletion([]string{keygen.RSA3072, keygen.ECP256}))
	return cmd
}

func (a *app) runFix(ctx context.Context, o *fixOpts, args []string) error {
	if err := o.collectOpts.validate(); err != nil {
		return err
	}
	if !slices.Contains(fixFormats(), o.format) {
		return usageErr("--format %q: want one of %s", o.format, strings.Join(fixFormats(), ", "))
	}
	if o.keyType != keygen.RSA3072 && o.keyType != keygen.ECP256 {
		return usageErr("--key-type %q: want rsa or ec", o.keyType)
	}
	if o.undo != "" {
		if o.apply {
			return usageErr("--undo and --apply do not go together")
		}
		return a.runUndo(o, args)
	}
	var cert *x509.Certificate
	if o.vaultCert != "" {
		c, err := readCert(o.vaultCert)
		if err != nil {
			return usageErr("--vault-cert: %v", err)
		}
		cert = c
	}
	set, err := a.loadRules(&ruleOpts{})
	if err != nil {
		return err
	}
	selected, unknown := set.Filter(o.only, o.skip)
	if len(unknown) > 0 {
		return usageErr("--only/--skip name unknown rules: %s", strings.Join(unknown, ", "))
	}
	targets, err := o.targets(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	s := a.scanner(&o.collectOpts)
	s.Rules = selected
	s.Collectors = scan.ForRules(s.Collectors, selected)
	res := s.Run(ctx, targets)
	if res.Report.Interrupted {
		return exitCode(ExitUsage, errors.New("the scan was interrupted: nothing to fix from"))
	}
	now := a.now()
	inventory := fromInventory(args)
	wopt := wso2fix.Options{Hostname: o.hostname, AdminUser: o.adminUser, KeyType: o.keyType, CSR: o.csr, Now: now, Rand: rand.Reader, VaultCert: cert, Keys: a.fixKeys, Inventory: inventory}
	if o.portOffsetSet {
		n := o.portOffset
		wopt.PortOffset = &n
	}
	hopt := hostfix.Options{ManagementNets: o.managementNet, SSHPort: o.sshPort, Validator: hostfix.ExecValidator(), Inventory: inventory}
	plan := &fix.Plan{}
	for i, ti := range res.Report.Targets {
		var tf *facts.Facts
		if i < len(res.Facts) {
			tf = res.Facts[i]
		}
		findings := findingsOf(res.Report, ti.Name)
		if tf == nil {
			continue
		}
		switch ti.Kind {
		case string(target.Directory):
			if tf.Product == nil {
				continue
			}
			in := wso2fix.Input{Target: ti.Name, Dir: tf.Target.Directory, Home: homeInProduct(o.root, tf.Target.Directory), Facts: tf, Findings: findings}
			p, err := wso2fix.Plan(in, wopt)
			if err != nil {
				return exitCode(ExitUsage, err)
			}
			plan.Add(p)
		case string(target.Host):
			root := o.root
			if root == "" {
				root = "/"
			}
			p, err := hostfix.Plan(hostfix.Input{Target: ti.Name, Root: root, Facts: tf, Findings: findings}, hopt)
			if err != nil {
				return exitCode(ExitUsage, err)
			}
			plan.Add(p)
		default:
			plan.Add(remoteOnly(ti.Name, findings))
		}
	}
	plan.Sort()
	if err := plan.MergeChanges(); err != nil {
		return exitCode(ExitUsage, err)
	}
	return a.finishFix(o, plan, now)
}

// finishFix renders the plan, applies it with --apply, and decides the
// exit code.
func (a *app) finishFix(o *fixOpts, plan *fix.Plan, now time.Time) error {
	color := o.format == "diff" && !o.noColor && a.getenv("NO_COLOR") == "" && (o.output == "" || o.output == "-") && a.isTerminal(a.stdout)
	ropt := fixrender.Options{Color: color, Width: a.width(o.output)}
	var readOnly []*fix.Change
	if o.apply {
		// A dry run shows these with a warning; --apply refuses them, and
		// so writes nothing at all.
		readOnly = plan.RefuseReadOnly()
	}
	failed := plan.Failed()
	ropt.Refused = o.apply && len(failed) > 0
	if o.apply && len(failed) == 0 && len(plan.Changes) > 0 {
		applied, err := fix.Apply(plan.Changes, now)
		if err != nil {
			return exitCode(ExitUsage, err)
		}
		ropt.Applied, ropt.Stamp = true, applied.Stamp
	}
	out := func(w io.Writer) error {
		switch o.format {
		case "json":
			return fixrender.JSON(w, plan, ropt)
		case "ansible":
			return fixrender.Ansible(w, plan, ropt)
		}
		return fixrender.Diff(w, plan, ropt)
	}
	if err := writeOutput(o.output, a.stdout, out); err != nil {
		return exitCode(ExitUsage, err)
	}
	if o.format == "ansible" && o.output != "" && o.output != "-" {
		fmt.Fprintf(a.stderr, "rampart: playbook written to %s\n", o.output)
	}
	// Generated secrets are shown once, when they are put to use.
	if len(plan.Reveals) > 0 && (ropt.Applied || o.format == "ansible") {
		fmt.Fprintln(a.stderr, "rampart: generated secrets, shown once (store them now; rampart keeps no copy):")
		for _, r := range plan.Reveals {
			fmt.Fprintf(a.stderr, "  %s: %s: %s\n", r.Target, r.What, r.Value)
		}
	}
	if len(readOnly) > 0 {
		var files []string
		for _, c := range readOnly {
			files = append(files, fmt.Sprintf("%s (mode %04o; %s)", filepath.Join(c.Root, c.Path), c.ModeBefore, strings.Join(c.Rules, ", ")))
		}
		return exitCode(ExitUsage, fmt.Errorf("nothing was written: these files are read-only; make them writable (chmod u+w), then run --apply again:\n  %s", strings.Join(files, "\n  ")))
	}
	if len(failed) > 0 {
		var lines []string
		for _, r := range failed {
			lines = append(lines, r.Target+" "+r.Rule+": "+r.Summary)
		}
		msg := "a fix failed"
		if o.apply {
			msg += ", so nothing was written"
		}
		return exitCode(ExitUsage, fmt.Errorf("%s:\n  %s", msg, strings.Join(lines, "\n  ")))
	}
	if plan.Count(fix.NeedsInput)+plan.Count(fix.Manual) > 0 {
		return exitCode(ExitFindings, nil)
	}
	return nil
}

// runUndo restores the files of an applied fix in each target's root.
func (a *app) runUndo(o *fixOpts, args []string) error {
	targets, err := o.targets(args)
	if err != nil {
		return err
	}
	var roots []string
	for _, t := range targets {
		switch t.Kind {
		case target.Directory:
			roots = append(roots, t.Dir)
		case target.Host:
			if t.Dir != "" {
				roots = append(roots, t.Dir)
			} else {
				roots = append(roots, "/")
			}
		}
	}
	if len(roots) == 0 {
		return usageErr("--undo needs the product home or host (local, --root DIR) the fix was applied to")
	}
	found := false
	for _, r := range roots {
		done, err := fix.Undo(r, o.undo)
		for _, d := range done {
			fmt.Fprintln(a.stdout, d)
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "no fix was applied here") {
				fmt.Fprintln(a.stderr, "rampart: "+err.Error())
				continue
			}
			return exitCode(ExitUsage, err)
		}
		found = true
	}
	if !found {
		return exitCode(ExitUsage, fmt.Errorf("no fix with stamp %s was found to undo", o.undo))
	}
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}

func findingsOf(r *finding.Report, name string) []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Findings {
		if f.Target == name {
			out = append(out, f)
		}
	}
	return out
}

// homeInProduct is a product home's path as the product sees it: the path
// inside --root for a home found on a mounted image.
func homeInProduct(root, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if root == "" || root == "/" {
		return abs
	}
	r, err := filepath.Abs(root)
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(r, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + filepath.ToSlash(rel)
	}
	return abs
}

// remoteOnly is the plan for an endpoint or node: rampart reaches it only
// over the network, so its failing rules are fixed on the host serving it
// (said once for the target, not on every rule).
func remoteOnly(name string, findings []finding.Finding) *fix.Plan {
	p := &fix.Plan{}
	for _, f := range findings {
		if f.Status != finding.Fail {
			continue
		}
		r := fix.Result{Rule: f.RuleID, Target: name, Status: fix.Manual}
		r.Say(fix.FirstSentence(f.Remediation))
		p.Results = append(p.Results, r)
	}
	if len(p.Results) > 0 {
		p.Notes = append(p.Notes, fix.Note{Target: name, Text: "seen over the network only, so rampart has no files of it to change: " +
			"make each fix below on the host or product home serving it (rampart fix DIR, or rampart fix local on that host)"})
	}
	return p
}

// fromInventory: the targets come from an inventory file (@FILE).
func fromInventory(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "@") {
			return true
		}
	}
	return false
}
