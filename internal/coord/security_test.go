package coord_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/bus/bustest"
	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// TestForgedResultsRefused: an agent can publish only under its own
// subject (NATS enforces it); what it publishes there is checked too.
// Results that claim another zone, another agent's name, or a target
// the job is not about are refused and never stored.
func TestForgedResultsRefused(t *testing.T) {
	targets := []target.Target{
		{Name: "gw", Kind: target.Endpoint, Host: "192.0.2.10", Port: 443, Decl: target.Declared{NoReachDefaults: true}},
		{Name: "db", Kind: target.Endpoint, Host: "192.0.2.11", Port: 5432, Decl: target.Declared{NoReachDefaults: true}},
	}
	log, refused := watch("result refused")
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: []target.Zone{{Name: "dmz", Role: "dmz"}, {Name: "internal", Role: "internal"}},
		targets: targets, logger: log})
	secret, err := f.co.CreateAgent(context.Background(), coord.NewAgent{Name: "dmz-1", Zone: "dmz", Kind: coord.KindPassword, By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	_, round, err := f.co.FanOut(context.Background(), "s", targets)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := bus.Connect(bus.ClientConfig{URL: f.url, CAFile: f.ca, User: "dmz-1", Password: secret, InboxPrefix: bus.InboxPrefix("dmz-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	result := func(job, z, agent, tgt string) bus.Result {
		return bus.Result{V: bus.MessageVersion, Job: job, Zone: z, Agent: agent, Target: tgt,
			Report:      &finding.Report{Targets: []finding.TargetInfo{{Name: tgt}}, Findings: []finding.Finding{}},
			Observation: &zone.Observation{Scanned: []int{443}, Open: []zone.OpenPort{{Port: 443, Service: "https"}}}}
	}
	forged := []bus.Result{
		result(bus.JobID(round, "internal", 0), "internal", "dmz-1", "gw"), // another zone's job
		result(bus.JobID(round, "dmz", 0), "dmz", "dmz-2", "gw"),           // another agent's name
		result(bus.JobID(round, "dmz", 0), "dmz", "dmz-1", "db"),           // not the job's target
		result(bus.JobID(round+5, "dmz", 0), "dmz", "dmz-1", "gw"),         // no such round
	}
	for i, r := range forged {
		data, _ := bus.Encode(r)
		if _, err := js.Publish(context.Background(), bus.ResultSubject("dmz", "dmz-1"), data, jetstream.WithMsgID(string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, refused, len(forged), "result refused")
	stored, err := f.store.StoredJobs(context.Background(), []string{bus.JobID(round, "internal", 0), bus.JobID(round, "dmz", 0)})
	if err != nil || len(stored) != 0 {
		t.Errorf("forged results stored: %v %v", stored, err)
	}
	runs, _ := f.store.Runs(context.Background(), 10, 0)
	for _, r := range runs {
		if strings.HasPrefix(r.Source, "zone:") {
			t.Errorf("a run from forged results: %+v", r)
		}
	}
	// Revoked: the agent is cut off and its credentials leave the server.
	if err := f.co.RevokeAgent(context.Background(), "dmz-1", "admin", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	creds, _ := f.co.Credentials(context.Background())
	if len(creds) != 0 {
		t.Errorf("credentials after revocation: %+v", creds)
	}
	agents := f.co.Agents()
	if len(agents) != 1 || agents[0].RevokedAt == nil || agents[0].Live {
		t.Errorf("agents after revocation: %+v", agents)
	}
}

// TestCredentialsOutliveRestart: an embedded NATS server started from the
// store's agents (as serve starts it) lets a created agent in at once,
// before any coordinator runs, and refuses a revoked one. Serve used to
// start its server with no agent and push them only after setting the
// streams up: agents reconnecting meanwhile were refused, and nats.go
// gives up on a server after two refusals in a row.
func TestCredentialsOutliveRestart(t *testing.T) {
	dir := t.TempDir()
	first := embedded(t, dir)
	zones := []target.Zone{{Name: "dmz", Role: "dmz"}}
	f := newFixture(t, first, fixtureOpts{zones: zones})
	ctx := context.Background()
	keep, err := f.co.CreateAgent(ctx, coord.NewAgent{Name: "dmz-1", Zone: "dmz", Kind: coord.KindPassword, By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := f.co.CreateAgent(ctx, coord.NewAgent{Name: "dmz-2", Zone: "dmz", Kind: coord.KindPassword, By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.co.RevokeAgent(ctx, "dmz-2", "admin", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	f.cancel()
	f.co.Wait()
	first.shutdown()

	// The restarted server, on the same files, with what the store says.
	creds, err := coord.AgentCredentials(ctx, f.store)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, ca := bustest.Certs(t, t.TempDir())
	pub, _, err := bus.NewServerKey()
	if err != nil {
		t.Fatal(err)
	}
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg, ServerKey: pub, Agents: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	connect := func(name, password string) error {
		// One attempt, no retry: the server's first answer is what counts.
		nc, err := nats.Connect(e.ClientURL(), nats.UserInfo(name, password), nats.RootCAs(ca), nats.CustomInboxPrefix(bus.InboxPrefix(name)), nats.Timeout(time.Minute))
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := connect("dmz-1", keep); err != nil {
		t.Errorf("agent dmz-1 after the restart: %v", err)
	}
	if err := connect("dmz-2", gone); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("revoked agent dmz-2 after the restart: %v, want %v", err, nats.ErrAuthorization)
	}
}
