package coord_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

// endpoints serves n HTTP endpoints on the target and returns them as
// targets judged by the given zones (no default expectations, so only
// their own port is scanned).
func endpoints(t *testing.T, n *zonetest.Net, count, base int, zones ...string) []target.Target {
	t.Helper()
	var out []target.Target
	for i := range count {
		p := base + i
		zonetest.HTTP(t, n.Target.Listen(t, "tcp", fmt.Sprintf("%s:%d", zonetest.TargetAddr, p)), zonetest.Gateway())
		out = append(out, target.Target{Name: fmt.Sprintf("ep%d", p), Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: p, Scheme: "http",
			Decl: target.Declared{Zones: zones, NoReachDefaults: true}})
	}
	return out
}

// TestAgentsShareTheZonesWork: two agents of one zone (on two hosts)
// work the zone's queue at the same time: the target holds every scan
// until both agents are scanning, which only happens if both took a job.
func TestAgentsShareTheZonesWork(t *testing.T) {
	n := zonetest.New(t, "dmz-a", "dmz-b")
	seen := map[string]bool{}
	var mu sync.Mutex
	both := make(chan struct{})
	gate := zonetest.HoldHTTP(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(src string) bool {
		mu.Lock()
		defer mu.Unlock()
		if !seen[src] {
			seen[src] = true
			if len(seen) == 2 {
				close(both)
			}
		}
		return len(seen) < 2
	})
	targets := []target.Target{
		{Name: "a", Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: 8081, Scheme: "http", Path: "/a", Decl: target.Declared{NoReachDefaults: true}},
		{Name: "b", Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: 8081, Scheme: "http", Path: "/b", Decl: target.Declared{NoReachDefaults: true}},
	}
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: []target.Zone{{Name: "dmz", Role: "dmz"}}, targets: targets})
	f.startAgent("dmz-a", "dmz", coord.KindPassword, n.Zones["dmz-a"].Dialer(t, 8))
	f.startAgent("dmz-b", "dmz", coord.KindPassword, n.Zones["dmz-b"].Dialer(t, 8))
	f.waitHeard("dmz-a", "dmz-b")
	_, round, err := f.co.FanOut(context.Background(), "s", targets)
	if err != nil {
		t.Fatal(err)
	}
	<-gate.Held // the first agent is held until the second one scans
	<-both
	gate.Release()
	f.waitJudged(round)
	jobs, err := f.store.RoundJobs(context.Background(), round)
	if err != nil {
		t.Fatal(err)
	}
	agents := map[string]int{}
	for _, j := range jobs {
		if j.State == store.JobDone {
			agents[j.Agent]++
		}
	}
	if agents["dmz-a"] != 1 || agents["dmz-b"] != 1 {
		t.Errorf("jobs per agent %v, want one each", agents)
	}
}

// gatedStore blocks SaveRun until released: a database that has fallen
// far behind.
type gatedStore struct {
	coord.Store
	open  chan struct{}
	once  sync.Once
	saves chan struct{}
}

func (g *gatedStore) SaveRun(ctx context.Context, in store.RunInput, alerts func(store.Drift) []store.OutboxItem) (store.Drift, error) {
	select {
	case g.saves <- struct{}{}:
	default:
	}
	<-g.open
	return g.Store.SaveRun(ctx, in, alerts)
}

func (g *gatedStore) release() { g.once.Do(func() { close(g.open) }) }

// TestSlowStoreNeverDropsResults: the store stops answering while agents
// finish their jobs; the results stream (kept small here) fills up, and
// agents hold their results and retry instead of dropping them. Once
// the store answers again every result is stored, each once.
func TestSlowStoreNeverDropsResults(t *testing.T) {
	n := zonetest.New(t, "dmz")
	targets := endpoints(t, n, 12, 8200)
	gs := &gatedStore{open: make(chan struct{}), saves: make(chan struct{}, 1)}
	agentLog, retries := watch("publish result: retrying")
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: []target.Zone{{Name: "dmz", Role: "dmz"}}, targets: targets,
		queue: bus.QueueConfig{ResultsMaxBytes: 32 << 10, MaxResultBytes: 24 << 10},
		wrap:  func(s coord.Store) coord.Store { gs.Store = s; return gs }})
	t.Cleanup(gs.release)
	f.startAgentWith("dmz-1", "dmz", coord.KindPassword, n.Zones["dmz"].Dialer(t, 16), 3, agentLog)
	f.startAgentWith("dmz-2", "dmz", coord.KindPassword, n.Zones["dmz"].Dialer(t, 16), 3, agentLog)
	f.waitHeard("dmz-1", "dmz-2")
	_, round, err := f.co.FanOut(context.Background(), "s", targets)
	if err != nil {
		t.Fatal(err)
	}
	<-gs.saves                                    // the coordinator is stuck in the store
	waitFor(t, retries, 3, "full results stream") // agents hold results the stream cannot take
	js, _ := jetstream.New(f.nc)
	st, err := js.Stream(context.Background(), bus.ResultsStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("results waiting in NATS while the store is stuck: %d (%d bytes)", st.CachedInfo().State.Msgs, st.CachedInfo().State.Bytes)
	gs.release()
	f.waitJudged(round)
	jobs, err := f.store.RoundJobs(context.Background(), round)
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, j := range jobs {
		if j.State == store.JobDone {
			done++
		}
	}
	if done != len(targets) {
		t.Fatalf("%d of %d results stored", done, len(targets))
	}
	runs, _ := f.store.Runs(context.Background(), 100, 0)
	zoned := 0
	for _, r := range runs {
		if r.Source != fmt.Sprintf("zones:s round:%d", round) {
			zoned += r.Targets
		}
	}
	if zoned != len(targets) {
		t.Errorf("zone runs hold %d targets, want %d (each result once)", zoned, len(targets))
	}
}

// TestGracefulStopReleasesTheJob: an agent stopped (SIGTERM) while its
// scan hangs gives the scan its grace period, then releases the job; the
// zone's other agent takes it at once, long before the ack wait (10
// minutes here) would have sent it on.
func TestGracefulStopReleasesTheJob(t *testing.T) {
	n := zonetest.New(t, "dmz-a", "dmz-b")
	var mu sync.Mutex
	first := ""
	gate := zonetest.HoldHTTP(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(src string) bool {
		mu.Lock()
		defer mu.Unlock()
		if first == "" {
			first = src
		}
		return src == first
	})
	targets := []target.Target{{Name: "slow", Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: 8081, Scheme: "http", Decl: target.Declared{NoReachDefaults: true}}}
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: []target.Zone{{Name: "dmz", Role: "dmz"}}, targets: targets, ackWait: 10 * time.Minute})
	f.grace = 200 * time.Millisecond
	agents := map[string]*runningAgent{
		n.Source["dmz-a"]: f.startAgent("dmz-a", "dmz", coord.KindPassword, n.Zones["dmz-a"].Dialer(t, 8)),
		n.Source["dmz-b"]: f.startAgent("dmz-b", "dmz", coord.KindPassword, n.Zones["dmz-b"].Dialer(t, 8)),
	}
	f.waitHeard("dmz-a", "dmz-b")
	_, round, err := f.co.FanOut(context.Background(), "s", targets)
	if err != nil {
		t.Fatal(err)
	}
	src := <-gate.Held
	agents[src].stop() // graceful: the grace ends, the job is released
	f.waitJudged(round)
	jobs, _ := f.store.RoundJobs(context.Background(), round)
	other := "dmz-b"
	if src == n.Source["dmz-b"] {
		other = "dmz-a"
	}
	if len(jobs) != 2 || jobs[1].Agent != other || jobs[1].State != store.JobDone {
		t.Errorf("round jobs %+v; want the job stored by %s", jobs, other)
	}
}

// stoppingStore cancels the fan-out's context as soon as the round is
// recorded: serve stopping while its jobs go out.
type stoppingStore struct {
	coord.Store
	stop func()
}

func (s *stoppingStore) CreateRound(ctx context.Context, r store.ZoneRound) (int64, error) {
	id, err := s.Store.CreateRound(ctx, r)
	s.stop()
	return id, err
}

// TestRoundSizeSurvivesStopMidFanOut: the server stops while a round's
// jobs go out (its context ends before JetStream's acknowledgements are
// read). The round still says how many jobs it has, the agents do them,
// and the round is judged with every job done. The round's size used to
// be recorded only after every acknowledgement: a stop then left it at
// 0 jobs, with 2 done.
func TestRoundSizeSurvivesStopMidFanOut(t *testing.T) {
	n := zonetest.New(t, "dmz", "internal")
	zones := []target.Zone{{Name: "dmz", Role: "dmz"}, {Name: "internal", Role: "internal"}}
	targets := endpoints(t, n, 1, 8300, "dmz", "internal")
	fanCtx, stop := context.WithCancel(context.Background())
	defer stop()
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: zones, targets: targets,
		wrap: func(s coord.Store) coord.Store { return &stoppingStore{Store: s, stop: stop} }})
	f.startAgent("dmz-1", "dmz", coord.KindPassword, n.Zones["dmz"].Dialer(t, 8))
	f.startAgent("int-1", "internal", coord.KindNKey, n.Zones["internal"].Dialer(t, 8))
	f.waitHeard("dmz-1", "int-1")
	_, round, err := f.co.FanOut(fanCtx, "s", targets)
	if err != nil {
		t.Fatal(err) // the old code failed here: "context canceled"
	}
	if fanCtx.Err() == nil {
		t.Fatal("the fan-out's context was not cancelled")
	}
	f.waitJudged(round)
	r, err := f.store.Round(context.Background(), round)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := f.store.RoundCounts(context.Background(), round)
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalJobs != 2 || counts["dmz"] != 1 || counts["internal"] != 1 {
		t.Errorf("round %+v, answered per zone %v; want 2 jobs, one answered by each zone", r, counts)
	}
}
