// Package coord is the zone side of `rampart serve`: it fans a schedule's
// targets out as jobs to every zone that judges them, consumes the
// agents' results and stores each zone's findings as runs (every job
// stored once, whatever NATS redelivers), tracks agents by their
// heartbeats, records dead-lettered jobs, and, when a round's zones have
// all answered (or a zone has no live agent, or the round's deadline
// passed), judges the exposure rules across the zones and stores those
// verdicts and each target's exposure matrix. It manages the agents'
// credentials too. The database is reached through the small interfaces
// below, the messages through NATS JetStream (internal/bus).
package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/waiver"
	"github.com/rampart-sec/rampart/internal/zone"
)

// RunSaver stores a run with its alerts (and claims its jobs).
type RunSaver interface {
	SaveRun(ctx context.Context, in store.RunInput, alerts func(store.Drift) []store.OutboxItem) (store.Drift, error)
}

// JobStore keeps rounds and the jobs that ended.
type JobStore interface {
	CreateRound(ctx context.Context, r store.ZoneRound) (int64, error)
	SetRoundJobs(ctx context.Context, id int64, total int) error
	Round(ctx context.Context, id int64) (store.ZoneRound, error)
	OpenRounds(ctx context.Context) ([]store.ZoneRound, error)
	RoundCounts(ctx context.Context, round int64) (map[string]int, error)
	RoundJobs(ctx context.Context, round int64) ([]store.JobClaim, error)
	FinishRound(ctx context.Context, id int64, at time.Time, runID int64) error
	JudgedRun(ctx context.Context, claimID string) (int64, error)
	StoredJobs(ctx context.Context, ids []string) (map[string]bool, error)
	SaveDeadJob(ctx context.Context, d store.DeadJob) error
	PruneZones(ctx context.Context, before time.Time) error
}

// ReachStore keeps the zones' observations and the matrices.
type ReachStore interface {
	ReachFor(ctx context.Context, round int64, targets []string) ([]store.ZoneReach, error)
	SaveExposure(ctx context.Context, rows []store.ZoneExposure) error
}

// AgentStore keeps the agents' credentials and heartbeats.
type AgentStore interface {
	ZoneAgents(ctx context.Context) ([]store.ZoneAgent, error)
	TouchZoneAgent(ctx context.Context, name string, seen time.Time, version string, started time.Time) error
	CreateZoneAgent(ctx context.Context, a store.ZoneAgent, audit store.Audit) error
	RevokeZoneAgent(ctx context.Context, name string, at time.Time, by string, audit store.Audit) error
}

// Store is everything the coordinator needs of the database.
type Store interface {
	RunSaver
	JobStore
	ReachStore
	AgentStore
}

// Config configures the coordinator.
type Config struct {
	Zones zone.Zones
	// Targets returns the inventory's targets (looked up by name when a
	// round is judged).
	Targets func() []target.Target
	// Catalog holds the exposure rules to judge across zones.
	Catalog    zone.Catalog
	Exceptions *waiver.Set
	Conn       *nats.Conn
	Store      Store
	// Queue shapes the streams (AckWait: how soon a dead agent's job goes
	// to another).
	Queue bus.QueueConfig
	// Scan is what every job asks of its agent.
	Scan bus.ScanOptions
	// MaxAttempts: deliveries before a job is dead-lettered (default 5).
	MaxAttempts int
	// RoundTimeout is how long a round waits for its zones (default 1h);
	// its jobs expire then.
	RoundTimeout time.Duration
	// AgentTimeout: an agent silent this long is not live (default 45s).
	AgentTimeout time.Duration
	// BatchSize and BatchWait shape result batches (64, 1s); BatchMax
	// is the most results stored at once when batches wait for the store
	// (default 2 x BatchSize).
	BatchSize int
	BatchWait time.Duration
	BatchMax  int
	// JudgePart is how many targets one run of a round's verdicts holds
	// (default 1,000): it bounds the memory a round's end takes, whatever
	// the fleet's size, and a part whose every result this server stored
	// is judged then, before the round settles.
	JudgePart int
	// Alerts routes the drift of stored runs to the outbox; Stored is
	// told of each stored run.
	Alerts func(onFirstRun string) func(store.Drift) []store.OutboxItem
	Stored func(store.Drift)
	// Judged, when set, is told of each round judged (and its run);
	// Heard of each heartbeat taken.
	Judged func(round, runID int64)
	Heard  func(agent string)
	// BcryptCost hashes generated agent passwords (default 11).
	BcryptCost   int
	FirstRun     func(schedule string) string
	CertWarnDays int
	// Retention drops the job records of rounds and dead letters older
	// than this (0 keeps them).
	Retention time.Duration
	// Credentials receives the agents allowed in whenever they change
	// (the embedded NATS server's users); nil with an external cluster.
	// The embedded server should start with them already
	// (AgentCredentials): an agent reconnecting before Start pushes them
	// would be refused.
	Credentials func([]bus.Credential) error
	// StartTimeout bounds Start's setting up of the streams (default 5
	// minutes: a loaded server or a cluster electing its leader can be
	// slow to answer).
	StartTimeout time.Duration
	Version      string
	Now          func() time.Time
	Logger       *slog.Logger
}

// Coordinator is the zone coordinator of a running server.
type Coordinator struct {
	cfg  Config
	js   jetstream.JetStream
	log  *slog.Logger
	kick chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	agents   map[string]*agentState // by name
	failures map[string]string      // job ID -> last reported error
	rounds   map[int64]*roundPlan
	subs     []*nats.Subscription
}

// New checks the configuration.
func New(cfg Config) (*Coordinator, error) {
	if cfg.Conn == nil || cfg.Store == nil || cfg.Targets == nil {
		return nil, errors.New("coord: needs a NATS connection, a store and the inventory")
	}
	if len(cfg.Zones) == 0 {
		return nil, errors.New("coord: the inventory has no zones")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RoundTimeout <= 0 {
		cfg.RoundTimeout = time.Hour
	}
	if cfg.AgentTimeout <= 0 {
		cfg.AgentTimeout = 45 * time.Second
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = 11
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	if cfg.BatchMax < cfg.BatchSize {
		cfg.BatchMax = 2 * cfg.BatchSize
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = time.Second
	}
	if cfg.JudgePart <= 0 {
		cfg.JudgePart = 1000
	}
	if cfg.Scan.Timeout <= 0 {
		cfg.Scan.Timeout = 10 * time.Minute
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Alerts == nil {
		cfg.Alerts = func(string) func(store.Drift) []store.OutboxItem { return nil }
	}
	if cfg.FirstRun == nil {
		cfg.FirstRun = func(string) string { return "" }
	}
	cfg.Queue.Zones = nil
	for _, z := range cfg.Zones {
		cfg.Queue.Zones = append(cfg.Queue.Zones, z.Name)
	}
	// A job published while the connection drops may never be
	// acknowledged: its future fails after a while and the job is
	// published again (the same message ID: JetStream keeps one).
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("coord: %w", err)
	}
	return &Coordinator{cfg: cfg, js: js, log: cfg.Logger.With("component", "zones"), kick: make(chan struct{}, 1),
		agents: map[string]*agentState{}, failures: map[string]string{}, rounds: map[int64]*roundPlan{}}, nil
}

// Start sets up the streams, loads the agents, pushes their credentials
// and starts consuming results, dead letters and heartbeats, and judging
// rounds, until ctx is done (Wait waits for that). Results published
// while the server was down are consumed at once.
func (c *Coordinator) Start(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	if err := bus.Setup(sctx, c.js, c.cfg.Queue); err != nil {
		return err
	}
	if err := c.loadAgents(sctx); err != nil {
		return err
	}
	if err := c.pushCredentials(sctx); err != nil {
		return err
	}
	for subj, h := range map[string]nats.MsgHandler{bus.AllHeartbeats: c.onHeartbeat, bus.AllFailures: c.onFailure} {
		sub, err := c.cfg.Conn.Subscribe(subj, h)
		if err != nil {
			return fmt.Errorf("coord: subscribe %s: %w", subj, err)
		}
		c.subs = append(c.subs, sub)
	}
	results, err := bus.Consumer(sctx, c.js, bus.ResultsStream, bus.ResultsConsumer)
	if err != nil {
		return fmt.Errorf("coord: results: %w", err)
	}
	dead, err := bus.Consumer(sctx, c.js, bus.DeadStream, bus.DeadConsumer)
	if err != nil {
		return fmt.Errorf("coord: dead letters: %w", err)
	}
	c.wg.Go(func() { c.consumeResults(ctx, results) })
	c.wg.Go(func() { c.consume(ctx, dead, c.storeDead) })
	c.wg.Go(func() { c.judgeLoop(ctx) })
	context.AfterFunc(ctx, func() {
		for _, s := range c.subs {
			_ = s.Unsubscribe()
		}
	})
	return nil
}

// Wait waits for the loops Start began to end (after its ctx is done).
func (c *Coordinator) Wait() { c.wg.Wait() }

// Kick asks the judge loop to look at the open rounds now.
func (c *Coordinator) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// consume fetches batches from a durable consumer and hands them on;
// handle acknowledges what it is done with.
func (c *Coordinator) consume(ctx context.Context, cons jetstream.Consumer, handle func(context.Context, []jetstream.Msg)) {
	backoff := time.Second
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, c.cfg.BatchWait)
		batch, err := cons.Fetch(c.cfg.BatchSize, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("fetch", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		cancel()
		backoff = time.Second
		if len(msgs) > 0 {
			handle(context.WithoutCancel(ctx), msgs)
		}
	}
}

// inProgress keeps messages from being redelivered while a slow store
// works on them; stop ends it.
func inProgress(msgs []jetstream.Msg, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}()
	return cancel
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
