package cli

import (
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/server"
	"github.com/rampart-sec/rampart/internal/waiver"
)

type serveOpts struct {
	config            string
	adminPasswordFile string
}

func (a *app) serveCmd() *cobra.Command {
	o := &serveOpts{}
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run scheduled audits, keep their history, serve the dashboard and API, alert on drift",
		Long: `Run rampart as a service: audit the inventory on a schedule (an interval or a
cron expression), keep every run in SQLite (in data_dir) or PostgreSQL
(storage: postgres://...), serve a dashboard and a JSON API over HTTPS, send
drift alerts (new failures, fixes, expiring certificates, new open ports,
health endpoints down or slow) to webhooks, and watch health endpoints with
Prometheus metrics at /metrics.

There is no default account: at first start the server prints a one-time
setup token that creates the first admin at https://LISTEN/setup, unless
an admin password is given (admin.password_file, --admin-password-file or
RAMPART_ADMIN_PASSWORD). Without tls.cert/tls.key a local CA and a server
certificate are generated in data_dir (trust data_dir/ca.pem).`,
		Example: `  rampart serve --config /etc/rampart/serve.yaml

  # serve.yaml
  listen: 127.0.0.1:8843
  data_dir: /var/lib/rampart
  inventory: inventory.yaml
  schedules:
    - {name: nightly, cron: "0 2 * * *"}
    - {name: gateways, every: 1h, targets: [gw1, gw2]}
  alerts:
    destinations:
      - {name: ops, url: https://hooks.example.com/rampart, secret_file: hook.secret}
      - {name: slack, url: https://hooks.slack.com/services/T/B/X, format: slack}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServe(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "", "configuration file (YAML)")
	f.StringVar(&o.adminPasswordFile, "admin-password-file", "", "create the first admin with the password in this file (user name from admin.username, default admin)")
	return cmd
}

// serveMemoryLimit is serve's soft limit on the Go runtime's memory unless
// GOMEMLIMIT sets one: past it the collector runs more often rather than
// letting the heap double. A zones first round (agents publishing 180
// results a second into the embedded NATS while the store writes a
// backlog) peaked serve at 330 MiB without it; the goal is 300.
const serveMemoryLimit = 200 << 20

func (a *app) runServe(cmd *cobra.Command, o *serveOpts) error {
	if o.config == "" {
		return usageErr("serve needs --config FILE")
	}
	if a.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(serveMemoryLimit))
	}
	cfg, err := server.LoadConfig(o.config)
	if err != nil {
		return usageErr("%v", err)
	}
	password, err := a.adminPassword(cfg, o)
	if err != nil {
		return err
	}
	set, err := a.loadRules(&ruleOpts{only: cfg.Scan.Only, skip: cfg.Scan.Skip})
	if err != nil {
		return err
	}
	selected, unknown := set.Filter(cfg.Scan.Only, cfg.Scan.Skip)
	if len(unknown) > 0 {
		return usageErr("scan.only/scan.skip name unknown rules: %s", strings.Join(unknown, ", "))
	}
	exceptions := &waiver.Set{}
	for _, p := range cfg.Waivers {
		wf, err := readWaivers(p, set.Has, set.IDs())
		if err != nil {
			return err
		}
		exceptions.Add(wf)
	}
	for _, p := range cfg.Attestations {
		wf, err := readWaivers(p, set.Has, set.IDs())
		if err != nil {
			return err
		}
		exceptions.Add(wf)
	}
	co := &collectOpts{
		role: cfg.Scan.Role, timeout: cfg.Scan.Timeout, concurrency: cfg.Scan.Concurrency, perHost: cfg.Scan.PerHost,
		intrusive: cfg.Scan.Intrusive, caBundle: cfg.Scan.CABundle, ports: "top", certWarnDays: cfg.Scan.CertWarnDays, backupMaxDays: 7,
	}
	if err := co.validate(); err != nil {
		return err
	}
	newScanner := func() *scan.Scanner {
		s := a.scanner(co)
		s.Rules = selected
		s.Exceptions = exceptions
		return s
	}
	srv, err := server.New(cmd.Context(), server.Options{
		Config: cfg, NewScanner: newScanner, Exceptions: exceptions, Logger: a.logger, Now: a.now,
		Version: version(), Notice: a.stderr, AdminPassword: password,
	})
	if err != nil {
		return exitCode(ExitUsage, err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return exitCode(ExitUsage, fmt.Errorf("listen %s: %w", cfg.Listen, err))
	}
	fmt.Fprintf(a.stderr, "rampart: serving https://%s/ (data in %s)\n", ln.Addr(), cfg.DataDir)
	if ca := srv.CAFile(); ca != "" {
		fmt.Fprintf(a.stderr, "rampart: the certificate is signed by the generated CA %s\n", ca)
	}
	if err := srv.Serve(cmd.Context(), ln); err != nil {
		return exitCode(ExitUsage, err)
	}
	return nil
}

// adminPassword reads the first admin's password: --admin-password-file,
// then admin.password_file, then RAMPART_ADMIN_PASSWORD.
func (a *app) adminPassword(cfg *server.Config, o *serveOpts) (string, error) {
	path := o.adminPasswordFile
	if path == "" {
		path = cfg.Admin.PasswordFile
	}
	var pw string
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", usageErr("admin password: %v", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	} else {
		pw = a.getenv("RAMPART_ADMIN_PASSWORD")
	}
	if pw != "" && cfg.Admin.Username == "" {
		cfg.Admin.Username = "admin"
	}
	return pw, nil
}
