package coord_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"github.com/rampart-sec/rampart/internal/agent"
	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/bus/bustest"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/waiver"
	"github.com/rampart-sec/rampart/internal/zone"
	builtin "github.com/rampart-sec/rampart/rules"
)

const (
	srvUser = "rampart-server"
	srvPass = "coordinator-test-password"
)

// fixture is a coordinator on a real store and a real NATS server.
type fixture struct {
	t      *testing.T
	url    string
	ca     string
	store  *store.SQL
	co     *coord.Coordinator
	set    *rules.Set
	judged chan [2]int64
	heard  chan string
	nc     *nats.Conn
	// grace is the agents' shutdown grace (default theirs, 30s).
	grace  time.Duration
	cancel context.CancelFunc
}

type natsBackend struct {
	url, ca string
	// shutdown stops an embedded server (its files stay).
	shutdown func()
	// coordinator is how the coordinator signs in.
	coordinator bus.ClientConfig
	// setAgents gives the server the agents allowed in.
	setAgents func([]bus.Credential) error
}

// embedded starts the embedded NATS server with TLS.
func embedded(t *testing.T, dir string) natsBackend {
	t.Helper()
	tlsCfg, ca := bustest.Certs(t, dir)
	pub, seed, err := bus.NewServerKey()
	if err != nil {
		t.Fatal(err)
	}
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), TLS: tlsCfg, ServerKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return natsBackend{url: e.ClientURL(), ca: ca, coordinator: bus.ClientConfig{NKeySeed: seed}, shutdown: e.Shutdown,
		setAgents: func(c []bus.Credential) error { return e.SetAgents(c) }}
}

// debian starts Debian's nats-server with TLS.
func debian(t *testing.T, dir string) (natsBackend, *bustest.Proc) {
	t.Helper()
	_, ca := bustest.Certs(t, dir)
	p := bustest.Debian(t, dir, bustest.DebianConfig{TLSDir: dir, Auth: bus.ConfigBlock(srvUser, srvPass, nil)})
	return natsBackend{url: p.URL, ca: ca, coordinator: bus.ClientConfig{User: srvUser, Password: srvPass}, setAgents: func(c []bus.Credential) error {
		p.SetAuth(bus.ConfigBlock(srvUser, srvPass, c))
		return nil
	}}, p
}

type fixtureOpts struct {
	zones   []target.Zone
	targets []target.Target
	ackWait time.Duration
	// maxAttempts before a job is dead-lettered.
	maxAttempts int
	store       *store.SQL
	wrap        func(coord.Store) coord.Store
	// queue overrides the streams' shape (AckWait comes from ackWait).
	queue  bus.QueueConfig
	logger *slog.Logger
	// judgePart: targets in one run of a round's verdicts.
	judgePart int
}

func newFixture(t *testing.T, nb natsBackend, o fixtureOpts) *fixture {
	t.Helper()
	st := o.store
	if st == nil {
		var err error
		st, err = store.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	cc := nb.coordinator
	cc.URL, cc.CAFile, cc.Name = nb.url, nb.ca, "rampart-server"
	nc, err := bus.Connect(cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	f := &fixture{t: t, nc: nc, url: nb.url, ca: nb.ca, store: st, set: set, judged: make(chan [2]int64, 16), heard: make(chan string, 64)}
	var cs coord.Store = st
	if o.wrap != nil {
		cs = o.wrap(st)
	}
	if o.ackWait == 0 {
		o.ackWait = 30 * time.Second
	}
	co, err := coord.New(coord.Config{
		Zones: o.zones, Targets: func() []target.Target { return o.targets }, Catalog: zone.NewCatalog(set.Rules()),
		Exceptions: &waiver.Set{}, Conn: nc, Store: cs, Queue: withAckWait(o.queue, o.ackWait),
		Scan: bus.ScanOptions{Timeout: time.Minute}, MaxAttempts: o.maxAttempts, AgentTimeout: time.Hour, BatchWait: 200 * time.Millisecond,
		Credentials: nb.setAgents, Version: "test", Logger: orTest(o.logger),
		Judged: func(round, run int64) { f.judged <- [2]int64{round, run} },
		Heard: func(name string) {
			select {
			case f.heard <- name:
			default:
			}
		},
		BcryptCost: bcrypt.MinCost, JudgePart: o.judgePart,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := co.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); co.Wait() })
	f.co, f.cancel = co, cancel
	return f
}

// waitJudged waits for a round to be judged (the bound keeps a broken
// coordinator from hanging the test; it is no timing assertion).
func (f *fixture) waitJudged(round int64) int64 {
	f.t.Helper()
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case j := <-f.judged:
			if j[0] == round {
				return j[1]
			}
		case <-deadline:
			f.t.Fatalf("round %d was not judged", round)
		}
	}
}

// waitHeard waits until the coordinator has taken a heartbeat of each
// agent (so their zones count as live).
func (f *fixture) waitHeard(names ...string) {
	f.t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	deadline := time.After(2 * time.Minute)
	for len(want) > 0 {
		select {
		case n := <-f.heard:
			delete(want, n)
		case <-deadline:
			f.t.Fatalf("no heartbeat from %v", want)
		}
	}
}

// runningAgent is an in-process agent scanning from a zone's namespace.
type runningAgent struct {
	stop func()
	done chan error
}

// startAgent creates the agent's credentials through the coordinator and
// runs it, connecting to NATS over loopback (outbound) and scanning
// through dialer.
func (f *fixture) startAgent(name, zoneName, kind string, dialer collect.Dialer) *runningAgent {
	f.t.Helper()
	return f.startAgentWith(name, zoneName, kind, dialer, 1, testLogger())
}

func (f *fixture) startAgentWith(name, zoneName, kind string, dialer collect.Dialer, concurrency int, logger *slog.Logger) *runningAgent {
	f.t.Helper()
	secret, err := f.co.CreateAgent(context.Background(), coord.NewAgent{Name: name, Zone: zoneName, Kind: kind, By: "admin"})
	if err != nil {
		f.t.Fatal(err)
	}
	cc := bus.ClientConfig{URL: f.url, CAFile: f.ca, InboxPrefix: bus.InboxPrefix(name), Name: name}
	if kind == coord.KindPassword {
		cc.User, cc.Password = name, secret
	} else {
		p := filepath.Join(f.t.TempDir(), name+".nk")
		writeFile(f.t, p, secret)
		cc.NKeySeedFile = p
	}
	nc, err := bus.Connect(cc)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.runAgent(nc, name, zoneName, dialer, concurrency, logger)
}

func (f *fixture) runAgent(nc *nats.Conn, name, zoneName string, dialer collect.Dialer, concurrency int, logger ...*slog.Logger) *runningAgent {
	f.t.Helper()
	a, err := agent.New(agent.Options{Zone: zoneName, Name: name, Version: "test", Conn: nc, Concurrency: concurrency,
		Scanner: agent.Scanners(agent.ScannerConfig{Rules: f.set, Dialer: dialer, Version: "test"}), FetchWait: time.Second, Grace: f.grace, Logger: firstOr(logger)})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{done: make(chan error, 1)}
	var once sync.Once
	ra.stop = func() {
		once.Do(func() {
			cancel()
			<-ra.done
			nc.Close()
		})
	}
	go func() { ra.done <- a.Run(ctx) }()
	f.t.Cleanup(ra.stop)
	return ra
}

func findingOf(t *testing.T, s *store.SQL, run int64, target, rule string) finding.Finding {
	t.Helper()
	recs, err := s.RunFindings(context.Background(), run, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RuleID == rule {
			return r.Finding
		}
	}
	t.Fatalf("run %d has no %s finding on %s", run, rule, target)
	return finding.Finding{}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// testLogger logs to stderr with RAMPART_TEST_LOG=1 (debugging), else
// nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("RAMPART_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func withAckWait(q bus.QueueConfig, d time.Duration) bus.QueueConfig {
	q.AckWait = d
	return q
}

func orTest(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return testLogger()
}

// watch is a logger that also tells a channel of every record whose
// message contains one of the given strings (tests wait on what a
// component says it did, not on time).
func watch(match ...string) (*slog.Logger, chan string) {
	c := make(chan string, 1024)
	return slog.New(&watchHandler{Handler: testLogger().Handler(), match: match, c: c}), c
}

type watchHandler struct {
	slog.Handler
	match []string
	c     chan string
}

func (h *watchHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *watchHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, m := range h.match {
		if strings.Contains(r.Message, m) {
			select {
			case h.c <- r.Message:
			default:
			}
		}
	}
	if h.Handler.Enabled(ctx, r.Level) {
		return h.Handler.Handle(ctx, r)
	}
	return nil
}

func (h *watchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &watchHandler{Handler: h.Handler.WithAttrs(as), match: h.match, c: h.c}
}

func (h *watchHandler) WithGroup(n string) slog.Handler {
	return &watchHandler{Handler: h.Handler.WithGroup(n), match: h.match, c: h.c}
}

// waitFor receives n messages from c (bounded so a broken component
// cannot hang the test).
func waitFor(t *testing.T, c chan string, n int, what string) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for i := 0; i < n; i++ {
		select {
		case <-c:
		case <-deadline:
			t.Fatalf("waited for %d of %q, got %d", n, what, i)
		}
	}
}

func firstOr(ls []*slog.Logger) *slog.Logger {
	if len(ls) > 0 {
		return ls[0]
	}
	return testLogger()
}
