package bus_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	url, ca string
	// coordinator is how the coordinator signs in (URL and CA are set
	// from the fields above).
	coordinator bus.ClientConfig
	setAgents   func([]bus.Credential)
}

// embeddedCoordinator is a key pair for the embedded server's
// coordinator: the server gets the public key, the client the seed.
func embeddedCoordinator(t *testing.T) (string, bus.ClientConfig) {
	t.Helper()
	pub, seed, err := bus.NewServerKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub, bus.ClientConfig{NKeySeed: seed}
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cc := srv.coordinator
	cc.URL, cc.CAFile = srv.url, srv.ca
	nc, err := bus.Connect(cc)
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
	key, coordinator := embeddedCoordinator(t)
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg,
		ServerKey: key, Agents: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	if !strings.HasPrefix(e.ClientURL(), "tls://127.0.0.1:") {
		t.Errorf("client URL %s", e.ClientURL())
	}
	permissionScenario(t, natsServer{url: e.ClientURL(), ca: ca, coordinator: coordinator, setAgents: func(c []bus.Credential) {
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
	permissionScenario(t, natsServer{url: p.URL, ca: ca, coordinator: bus.ClientConfig{User: serverUser, Password: serverPass}, setAgents: func(c []bus.Credential) {
		p.SetAuth(bus.ConfigBlock(serverUser, serverPass, c))
	}}, creds, seed)
}

// TestPlainConnectionRefusedWithTLS: the embedded server requires TLS. A
// NATS client upgrades to TLS by itself when the server asks, so the
// test speaks the protocol over plain TCP: the server announces that it
// requires TLS and drops a plain CONNECT (with the coordinator's own
// key), never answering its PING.
func TestPlainConnectionRefusedWithTLS(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, _ := bustest.Certs(t, dir)
	key, _ := embeddedCoordinator(t)
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg, ServerKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // a broken server cannot hang the test
	r := bufio.NewReader(c)
	info, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(info, "INFO ") || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("server greeting %q (%v): want INFO with tls_required", info, err)
	}
	if _, err := fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"nkey\":%q}\r\nPING\r\n", key); err != nil {
		t.Fatal(err)
	}
	// The server waits for a TLS handshake: it drops the connection (or
	// says why first).
	answer, err := r.ReadString('\n')
	if strings.Contains(answer, "PONG") || err == nil && !strings.HasPrefix(answer, "-ERR") {
		t.Fatalf("plain CONNECT answered %q (%v), want the connection refused", answer, err)
	}
}
