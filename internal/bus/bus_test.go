package bus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/bus/bustest"
)

const (
	serverUser = "rampart-server"
	serverPass = "s3rver-pass-for-tests"
	dmzPass    = "dmz-agent-password"
)

// natsServer is what the permission scenario needs of a server.
type natsServer struct {
	url, ca   string
	setAgents func([]bus.Credential)
}

// errs collects a connection's asynchronous errors.
type errs struct {
	mu  sync.Mutex
	all []string
	c   chan struct{}
}

func newErrs() *errs { return &errs{c: make(chan struct{}, 64)} }

func (e *errs) add(err error) {
	e.mu.Lock()
	e.all = append(e.all, err.Error())
	e.mu.Unlock()
	select {
	case e.c <- struct{}{}:
	default:
	}
}

// wait blocks until an error containing want arrives (the server sends
// it in answer to the operation just made; the bound only keeps a broken
// server from hanging the test).
func (e *errs) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		e.mu.Lock()
		for _, s := range e.all {
			if strings.Contains(strings.ToLower(s), strings.ToLower(want)) {
				e.mu.Unlock()
				return
			}
		}
		e.mu.Unlock()
		select {
		case <-e.c:
		case <-deadline:
			t.Fatalf("no error %q; got %v", want, e.all)
		}
	}
}

func credentials(t *testing.T) ([]bus.Credential, string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(dmzPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "corp-1.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return []bus.Credential{{Agent: "dmz-1", Zone: "dmz", PasswordHash: string(hash)}, {Agent: "corp-1", Zone: "corp", NKey: pub}}, seedFile
}

// permissionScenario: an agent pulls and acknowledges its own zone's jobs
// and publishes its results, and is refused everything else; revoked, it
// is cut off.
func permissionScenario(t *testing.T, srv natsServer, creds []bus.Credential, seedFile string) {
	ctx := context.Background()
	nc, err := bus.Connect(bus.ClientConfig{URL: srv.url, User: serverUser, Password: serverPass, CAFile: srv.ca})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Setup(ctx, js, bus.QueueConfig{Zones: []string{"dmz", "corp"}, AckWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, z := range []string{"dmz", "corp"} {
		if _, err := js.Publish(ctx, bus.JobSubject(z), []byte("job for "+z), jetstream.WithMsgID("1."+z+".0")); err != nil {
			t.Fatal(err)
		}
	}

	dmzErrs := newErrs()
	dmz, err := bus.Connect(bus.ClientConfig{URL: srv.url, User: "dmz-1", Password: dmzPass, CAFile: srv.ca,
		InboxPrefix: bus.InboxPrefix("dmz-1"), OnError: dmzErrs.add})
	if err != nil {
		t.Fatal(err)
	}
	defer dmz.Close()
	djs, _ := jetstream.New(dmz)
	cons, err := djs.Consumer(ctx, bus.JobsStream, bus.ZoneConsumer("dmz"))
	if err != nil {
		t.Fatalf("dmz agent binds its zone's consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if len(got) != 1 || got[0] != "job for dmz" {
		t.Fatalf("dmz agent got %v", got)
	}
	if _, err := djs.Publish(ctx, bus.ResultSubject("dmz", "dmz-1"), []byte("result")); err != nil {
		t.Fatalf("dmz agent publishes its result: %v", err)
	}
	// Everything else is refused by the server.
	for _, subj := range []string{
		bus.ResultSubject("corp", "dmz-1"),                 // another zone's results
		bus.ResultSubject("dmz", "dmz-2"),                  // another agent's name
		bus.JobSubject("dmz"),                              // publishing jobs
		"$JS.API.CONSUMER.MSG.NEXT.RAMPART_JOBS.zone_corp", // another zone's jobs
		"$JS.API.STREAM.DELETE.RAMPART_JOBS",               // the management API
	} {
		if err := dmz.Publish(subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
		dmz.Flush()
		dmzErrs.wait(t, "Permissions Violation for Publish to \""+subj+"\"")
	}
	for _, subj := range []string{"rampart.jobs.>", bus.InboxPrefix("corp-1") + ".>", "rampart.results.>"} {
		if _, err := dmz.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		dmz.Flush()
		dmzErrs.wait(t, "Permissions Violation for Subscription to \""+subj+"\"")
	}

	// The corp agent authenticates with its nkey and gets the corp job.
	corp, err := bus.Connect(bus.ClientConfig{URL: srv.url, NKeySeedFile: seedFile, CAFile: srv.ca, InboxPrefix: bus.InboxPrefix("corp-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer corp.Close()
	cjs, _ := jetstream.New(corp)
	ccons, err := cjs.Consumer(ctx, bus.JobsStream, bus.ZoneConsumer("corp"))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ccons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range cb.Messages() {
		if string(m.Data()) != "job for corp" {
			t.Errorf("corp agent got %q", m.Data())
		}
		_ = m.DoubleAck(ctx)
	}

	// Revoked: the dmz agent's connection is closed and not let back in.
	srv.setAgents(creds[1:])
	dmzErrs.wait(t, "authorization violation")
	if _, err := djs.Publish(ctx, bus.ResultSubject("dmz", "dmz-1"), []byte("after revocation"), jetstream.WithRetryAttempts(0)); err == nil {
		t.Error("a revoked agent published a result")
	}
	// The server's stream holds exactly the one result published before.
	info, err := js.Stream(ctx, bus.ResultsStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("results stream holds %d messages, want 1", n)
	}
	if !corp.IsConnected() {
		t.Error("revoking dmz-1 disconnected corp-1")
	}
}

func TestPermissionsEmbedded(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, ca := bustest.Certs(t, dir)
	creds, seed := credentials(t)
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg,
		ServerUser: serverUser, ServerPassword: serverPass, Agents: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	if !strings.HasPrefix(e.ClientURL(), "tls://127.0.0.1:") {
		t.Errorf("client URL %s", e.ClientURL())
	}
	permissionScenario(t, natsServer{url: e.ClientURL(), ca: ca, setAgents: func(c []bus.Credential) {
		if err := e.SetAgents(c); err != nil {
			t.Fatal(err)
		}
	}}, creds, seed)
}

func TestPermissionsDebianServer(t *testing.T) {
	dir := t.TempDir()
	_, ca := bustest.Certs(t, dir)
	creds, seed := credentials(t)
	p := bustest.Debian(t, dir, bustest.DebianConfig{TLSDir: dir, Auth: bus.ConfigBlock(serverUser, serverPass, creds)})
	permissionScenario(t, natsServer{url: p.URL, ca: ca, setAgents: func(c []bus.Credential) {
		p.SetAuth(bus.ConfigBlock(serverUser, serverPass, c))
	}}, creds, seed)
}

// TestPlainConnectionRefusedWithTLS: the embedded server requires TLS.
func TestPlainConnectionRefusedWithTLS(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, _ := bustest.Certs(t, dir)
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg,
		ServerUser: serverUser, ServerPassword: serverPass})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	_, err = nats.Connect(strings.Replace(e.ClientURL(), "tls://", "nats://", 1), nats.UserInfo(serverUser, serverPass))
	if err == nil {
		t.Fatal("plain connection accepted")
	}
}
