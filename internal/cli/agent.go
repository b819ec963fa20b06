package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/agent"
	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/target"
)

type agentOpts struct {
	zone, name, server       string
	user, passwordFile, nkey string
	creds, ca, cert, key     string
	concurrency              int
	heartbeat, grace         time.Duration
	rules                    []string
	caBundle                 string
	rate                     float64
}

func (a *app) agentCmd() *cobra.Command {
	o := &agentOpts{}
	cmd := &cobra.Command{
		Use:   "agent --zone NAME --server URL",
		Short: "Scan for rampart serve from a network zone (a scanner appliance)",
		Long: `Run a scan agent in one network zone. The agent connects out to the NATS
server of rampart serve (its embedded one, or a cluster) and never listens:
it works from a DMZ that accepts no inbound connection. It pulls its zone's
scan jobs from a JetStream work queue shared by every agent of the zone,
scans each target with the same collectors and rules as rampart scan (judged
from the zone's role), and publishes the report and what the zone reached;
serve judges each target's exposure from all zones together.

Credentials come from the dashboard (Zones, admins): a password (give it in
--password-file or RAMPART_AGENT_PASSWORD) or an nkey seed (--nkey FILE);
'rampart agent keygen' makes a key pair whose public key an admin can
register instead. NATS lets an agent take only its own zone's jobs and
publish only under its own name.

SIGTERM or Ctrl-C stops taking jobs; jobs under way get --grace to finish
and are released to another agent otherwise.`,
		Example: `  rampart agent --zone dmz --name dmz-1 --server tls://rampart.example.com:4222 \
      --password-file /etc/rampart/dmz-1.password --ca /etc/rampart/ca.pem

  rampart agent keygen --out /etc/rampart/corp-1.nk      # prints the public key to register
  rampart agent --zone corp --name corp-1 --server tls://rampart:4222 --nkey /etc/rampart/corp-1.nk --ca ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAgent(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.zone, "zone", "", "the zone this agent scans from (as the inventory names it)")
	f.StringVar(&o.name, "name", "", "the agent's name, as its credentials were created (default: the host name)")
	f.StringVar(&o.server, "server", "", "the NATS URL: tls://host:4222 (or nats://; comma-separated for a cluster)")
	f.StringVar(&o.user, "user", "", "NATS user (default: the agent's name)")
	f.StringVar(&o.passwordFile, "password-file", "", "file with the agent's password (else RAMPART_AGENT_PASSWORD)")
	f.StringVar(&o.nkey, "nkey", "", "file with the agent's nkey seed (instead of a password)")
	f.StringVar(&o.creds, "creds", "", "a NATS .creds file (JWT; a cluster run with accounts)")
	f.StringVar(&o.ca, "ca", "", "PEM CA that signed the NATS server's certificate (rampart serve's data_dir/ca.pem)")
	f.StringVar(&o.cert, "cert", "", "client certificate, if the NATS server asks for one")
	f.StringVar(&o.key, "key", "", "client certificate key")
	f.IntVar(&o.concurrency, "concurrency", 2, "jobs scanned at once")
	f.DurationVar(&o.heartbeat, "heartbeat", 10*time.Second, "heartbeat interval")
	f.DurationVar(&o.grace, "grace", 30*time.Second, "on shutdown, how long jobs under way may finish before they are released")
	f.StringArrayVar(&o.rules, "rules", nil, "add custom rule files (repeatable)")
	f.StringVar(&o.caBundle, "ca-bundle", "", "extra trusted CAs for certificate checks of the targets")
	f.Float64Var(&o.rate, "rate", 0, "cap port-scan connection attempts per second (0: no cap)")
	cmd.AddCommand(a.agentKeygenCmd())
	return cmd
}

func (a *app) runAgent(cmd *cobra.Command, o *agentOpts) error {
	if o.name == "" {
		h, _ := os.Hostname()
		o.name = strings.ToLower(strings.Split(h, ".")[0])
	}
	switch {
	case !target.ValidZoneName(o.zone):
		return usageErr("--zone %q: lower-case letters, digits, - and _", o.zone)
	case !target.ValidZoneName(o.name):
		return usageErr("--name %q: lower-case letters, digits, - and _ (at most 63)", o.name)
	case o.server == "":
		return usageErr("agent needs --server tls://HOST:4222")
	case o.concurrency < 1 || o.heartbeat < time.Second || o.grace < 0:
		return usageErr("--concurrency must be at least 1, --heartbeat at least 1s")
	}
	cc := bus.ClientConfig{URL: o.server, Name: "rampart-agent " + o.name, NKeySeedFile: o.nkey, CredsFile: o.creds,
		CAFile: o.ca, CertFile: o.cert, KeyFile: o.key, InboxPrefix: bus.InboxPrefix(o.name), Logger: a.logger}
	if o.nkey == "" && o.creds == "" {
		cc.User = o.user
		if cc.User == "" {
			cc.User = o.name
		}
		if o.passwordFile != "" {
			b, err := os.ReadFile(o.passwordFile)
			if err != nil {
				return usageErr("--password-file: %v", err)
			}
			cc.Password = strings.TrimRight(string(b), "\r\n")
		} else {
			cc.Password = a.getenv("RAMPART_AGENT_PASSWORD")
		}
		if cc.Password == "" {
			return usageErr("agent needs credentials: --password-file, RAMPART_AGENT_PASSWORD, --nkey or --creds")
		}
	}
	set, err := a.loadRules(&ruleOpts{dirs: o.rules})
	if err != nil {
		return err
	}
	// Refused credentials (revoked, or wrong) end the agent: retrying them
	// for ever would only hammer the server.
	ctx, cancel := context.WithCancelCause(cmd.Context())
	defer cancel(nil)
	cc.OnError = func(err error) {
		if strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			cancel(errors.New("the NATS server refused the agent's credentials (revoked, or wrong)"))
		}
	}
	nc, err := bus.Connect(cc)
	if err != nil {
		return exitCode(ExitUsage, err)
	}
	defer nc.Close()
	var dialer collect.Dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	if a.dialer != nil {
		dialer = a.dialer
	}
	ag, err := agent.New(agent.Options{Zone: o.zone, Name: o.name, Version: version(), Conn: nc, Concurrency: o.concurrency,
		Heartbeat: o.heartbeat, Grace: o.grace, Now: a.now, Logger: a.logger,
		Scanner: agent.Scanners(agent.ScannerConfig{Rules: set, Dialer: dialer, Version: version(), CABundle: o.caBundle, PortRate: o.rate, Now: a.now, Logger: a.logger})})
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(a.stderr, "rampart: agent %s of zone %s connecting to %s\n", o.name, o.zone, o.server)
	if err := ag.Run(ctx); err != nil {
		return exitCode(ExitFindings, err)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return exitCode(ExitFindings, cause)
	}
	return nil
}

func (a *app) agentKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make an nkey pair for an agent: the seed stays here, the public key goes to the dashboard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("keygen needs --out FILE (where the seed is written, mode 0600)")
			}
			kp, err := nkeys.CreateUser()
			if err != nil {
				return err
			}
			seed, _ := kp.Seed()
			pub, _ := kp.PublicKey()
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return usageErr("--out: %v", err)
			}
			if _, err := f.Write(append(seed, '\n')); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the seed to (must not exist)")
	return cmd
}
