// Package agent is `rampart agent`: a long-running scanner in one network
// zone. It connects out to NATS (never listens), pulls its zone's scan
// jobs from a JetStream work queue that every agent of the zone shares,
// scans each target with the same scanner as `rampart scan` (judged from
// the zone's role), and publishes the report and what the zone reached.
// It acknowledges a job only once its result is in JetStream, signals
// progress while it scans (so a live agent keeps its job), dead-letters a
// job after too many deliveries, heartbeats, and on shutdown finishes its
// jobs within a grace period or releases them to another agent.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/collect/portscan"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// Options configure an agent.
type Options struct {
	// Zone and Name identify the agent; its NATS credentials allow only
	// this zone's jobs and subjects under this name.
	Zone, Name, Version string
	// Conn is a connection made with bus.Connect (InboxPrefix set to
	// bus.InboxPrefix(Name)).
	Conn *nats.Conn
	// Scanner returns a scanner ready for one job: collectors, rules and
	// dialer, with the job's scan options applied.
	Scanner func(job *bus.Job) *scan.Scanner
	// Concurrency is how many jobs the agent scans at once (default 1).
	Concurrency int
	// Heartbeat is the interval of heartbeats (default 10s).
	Heartbeat time.Duration
	// Grace is how long a shutdown lets jobs under way finish before
	// releasing them to another agent (default 30s).
	Grace time.Duration
	// FetchWait is how long one pull waits for a job (default 5s).
	FetchWait time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Agent is a running agent.
type Agent struct {
	opt     Options
	js      jetstream.JetStream
	log     *slog.Logger
	started time.Time
	busy    atomic.Int64
	done    atomic.Int64
	failed  atomic.Int64
}

// New checks the options.
func New(opt Options) (*Agent, error) {
	if !target.ValidZoneName(opt.Zone) || !target.ValidZoneName(opt.Name) {
		return nil, fmt.Errorf("agent: zone %q and name %q must be lower-case letters, digits, - and _", opt.Zone, opt.Name)
	}
	if opt.Conn == nil || opt.Scanner == nil {
		return nil, errors.New("agent: needs a NATS connection and a scanner")
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 10 * time.Second
	}
	if opt.Grace <= 0 {
		opt.Grace = 30 * time.Second
	}
	if opt.FetchWait <= 0 {
		opt.FetchWait = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(opt.Conn)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return &Agent{opt: opt, js: js, log: opt.Logger.With("zone", opt.Zone, "agent", opt.Name)}, nil
}

// Run works until ctx is done, then shuts down gracefully: no new job is
// taken, jobs under way get Grace to finish (their results published and
// acknowledged) and are released to another agent otherwise.
func (a *Agent) Run(ctx context.Context) error {
	a.started = a.opt.Now()
	hbCtx, stopHB := context.WithCancel(context.Background())
	var hb sync.WaitGroup
	hb.Go(func() { a.heartbeats(hbCtx) })
	defer func() {
		stopHB()
		hb.Wait()
		a.heartbeat(true)
		_ = a.opt.Conn.FlushTimeout(5 * time.Second)
	}()
	cons, err := a.bind(ctx)
	if err != nil {
		return err
	}
	ackWait := cons.CachedInfo().Config.AckWait
	a.log.Info("agent started", "concurrency", a.opt.Concurrency, "ack_wait", ackWait)
	stopLog := context.AfterFunc(ctx, func() {
		a.log.Info("agent stopping: no new job; jobs under way get the grace period", "busy", a.busy.Load(), "grace", a.opt.Grace)
	})
	defer stopLog()
	var wg sync.WaitGroup
	for range a.opt.Concurrency {
		wg.Go(func() { a.work(ctx, cons, ackWait) })
	}
	wg.Wait()
	a.log.Info("agent stopped", "done", a.done.Load(), "failed", a.failed.Load())
	return nil
}

// bind finds the zone's consumer, waiting for the server to create it.
func (a *Agent) bind(ctx context.Context) (jetstream.Consumer, error) {
	wait := time.Second
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := a.js.Consumer(cctx, bus.JobsStream, bus.ZoneConsumer(a.opt.Zone))
		cancel()
		if err == nil {
			return cons, nil
		}
		a.log.Warn("waiting for the zone's job queue", "err", err)
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// work pulls and handles jobs one at a time until ctx is done.
func (a *Agent) work(ctx context.Context, cons jetstream.Consumer, ackWait time.Duration) {
	backoff := time.Second
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, a.opt.FetchWait)
		batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("fetch", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		for msg := range batch.Messages() {
			a.handle(ctx, msg, ackWait)
		}
		cancel()
		if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			a.log.Warn("fetch", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// handle does one job: scan, publish the result, acknowledge.
func (a *Agent) handle(run context.Context, msg jetstream.Msg, ackWait time.Duration) {
	delivered := 1
	if meta, err := msg.Metadata(); err == nil {
		delivered = int(meta.NumDelivered)
	}
	job, err := bus.DecodeJob(msg.Data())
	if err != nil {
		a.log.Error("undecodable job dropped (is the server a newer version?)", "err", err)
		_ = msg.TermWithReason("undecodable job")
		return
	}
	log := a.log.With("job", job.ID, "target", job.Target.Name, "delivery", delivered)
	switch {
	case job.Zone != a.opt.Zone:
		log.Error("job of another zone dropped", "job_zone", job.Zone)
		_ = msg.TermWithReason("wrong zone")
		return
	case !job.ExpiresAt.IsZero() && a.opt.Now().After(job.ExpiresAt):
		log.Info("job expired before it was taken; skipped", "expired", job.ExpiresAt)
		_ = msg.TermWithReason("expired")
		return
	case delivered > job.MaxAttempts:
		// Publishing the dead letter may wait for NATS: two minutes at
		// most, and a shutdown leaves it Grace more. A dead letter that
		// could not be published leaves the job to be delivered again
		// (and dead-lettered then), never dropped without a record.
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		stop := context.AfterFunc(run, func() { time.AfterFunc(a.opt.Grace, cancel) })
		defer stop()
		if a.deadLetter(dctx, job, delivered, log) {
			_ = msg.TermWithReason("dead-lettered")
		} else {
			_ = msg.Nak()
		}
		return
	case run.Err() != nil:
		_ = msg.Nak()
		return
	}
	a.busy.Add(1)
	defer a.busy.Add(-1)

	// Keep the job while it is worked on: progress signals reset its ack
	// wait, so only a dead agent's job is redelivered.
	progCtx, stopProg := context.WithCancel(context.Background())
	defer stopProg()
	go func() {
		tick := time.NewTicker(max(ackWait/3, 100*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-progCtx.Done():
				return
			case <-tick.C:
				_ = msg.InProgress()
			}
		}
	}()
	// The scan gets the job's timeout; a shutdown leaves it Grace more.
	scanCtx, cancelScan := context.WithTimeout(context.Background(), job.Scan.Timeout)
	defer cancelScan()
	stopGrace := context.AfterFunc(run, func() { time.AfterFunc(a.opt.Grace, cancelScan) })
	defer stopGrace()

	start := a.opt.Now()
	res, err := a.scan(scanCtx, job)
	if err != nil || run.Err() != nil && scanCtx.Err() != nil {
		if err == nil {
			err = errors.New("shutting down: the scan did not finish within the grace period")
		}
		a.fail(job, delivered, err, log)
		_ = msg.Nak() // another agent takes it now
		return
	}
	res.StartedAt, res.FinishedAt = start.UTC(), a.opt.Now().UTC()
	data, err := bus.EncodeResult(res)
	if err == nil && int64(len(data)) > a.opt.Conn.MaxPayload() {
		err = fmt.Errorf("the result is %d bytes, over the %d NATS accepts", len(data), a.opt.Conn.MaxPayload())
	}
	if err != nil {
		a.fail(job, delivered, err, log)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if err := a.publish(scanCtx, job, data, log); err != nil {
		a.fail(job, delivered, err, log)
		_ = msg.Nak()
		return
	}
	actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := msg.DoubleAck(actx); err != nil {
		// The result is in JetStream; the job comes back after its ack
		// wait and the server stores it once.
		log.Warn("ack", "err", err)
	}
	a.done.Add(1)
	log.Debug("job done", "elapsed", a.opt.Now().Sub(start))
}

// publish puts the result into JetStream, retrying while NATS is away or
// the results stream is full (the server is behind): a result is never
// dropped while the job is held. It gives up only when ctx ends (the
// shutdown's grace or the job's timeout); the job is then released.
func (a *Agent) publish(ctx context.Context, job *bus.Job, data []byte, log *slog.Logger) error {
	subj := bus.ResultSubject(a.opt.Zone, a.opt.Name)
	wait := 250 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := a.js.Publish(pctx, subj, data, jetstream.WithMsgID(job.ID))
		cancel()
		if err == nil {
			return nil
		}
		log.Warn("publish result: retrying", "err", err, "in", wait)
		if !sleep(ctx, wait) {
			return fmt.Errorf("publish result: %w", err)
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// scan runs the scanner on the job's target and builds the result; a
// panic in it is an error (the job is retried, then dead-lettered).
func (a *Agent) scan(ctx context.Context, job *bus.Job) (res *bus.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the scanner panicked: %v\n%s", p, debug.Stack())
		}
	}()
	t := job.Target
	sc := a.opt.Scanner(job)
	sc.Role = t.Decl.Role
	sc.DropFacts = false
	out := sc.Run(ctx, []target.Target{t})
	var extra *facts.Ports
	if t.Kind == target.Endpoint {
		// What an endpoint's zone reaches beyond it: the ports its
		// expectations name, on its host.
		ports := zone.ProbePorts(t)
		spec, _ := zone.PortSpec("top", ports, nil)
		node := target.Target{Name: t.Name, Kind: target.Node, Host: t.Host, Decl: t.Decl}
		env := sc.Env
		if p, perr := portscan.New(portscan.Options{}).Scan(ctx, node, spec, ports, &env); perr == nil {
			extra = p
		}
	}
	obs := zone.Observe(t, out.Facts, extra)
	obs.Trim(t)
	return &bus.Result{V: bus.MessageVersion, Job: job.ID, Zone: a.opt.Zone, Agent: a.opt.Name, Version: a.opt.Version,
		Target: t.Name, Report: out.Report, Observation: obs}, nil
}

// fail reports a failed attempt (the server keeps the last error of each
// job for its dead letter).
func (a *Agent) fail(job *bus.Job, delivery int, err error, log *slog.Logger) {
	a.failed.Add(1)
	log.Warn("job attempt failed; released", "err", err)
	msg := err.Error()
	if len(msg) > 4000 {
		msg = msg[:4000]
	}
	data, _ := bus.Encode(bus.Failure{V: bus.MessageVersion, Job: job.ID, Agent: a.opt.Name, Zone: a.opt.Zone, Delivery: delivery, Error: msg, At: a.opt.Now().UTC()})
	_ = a.opt.Conn.Publish(bus.FailSubject(a.opt.Zone, a.opt.Name), data)
}

// deadLetter gives up on a job delivered too often: its agents keep dying
// on it, or its result cannot be published.
func (a *Agent) deadLetter(ctx context.Context, job *bus.Job, delivered int, log *slog.Logger) bool {
	reason := fmt.Sprintf("delivered %d times (max_attempts %d) without a stored result: the agents scanning it died or its result could not be published", delivered, job.MaxAttempts)
	data, err := bus.Encode(bus.DeadLetter{V: bus.MessageVersion, Job: *job, Agent: a.opt.Name, Zone: a.opt.Zone, Deliveries: delivered, Reason: reason, At: a.opt.Now().UTC()})
	if err != nil {
		log.Error("dead letter", "err", err)
		return false
	}
	wait := 250 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = a.js.Publish(pctx, bus.DeadSubject(a.opt.Zone, a.opt.Name), data, jetstream.WithMsgID(job.ID))
		cancel()
		if err == nil {
			log.Warn("job dead-lettered", "deliveries", delivered)
			return true
		}
		if !sleep(ctx, wait) {
			log.Error("dead letter not published; the job is released", "err", err)
			return false
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// heartbeats says the agent is alive at once and every Heartbeat.
func (a *Agent) heartbeats(ctx context.Context) {
	a.heartbeat(false)
	tick := time.NewTicker(a.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.heartbeat(false)
		}
	}
}

func (a *Agent) heartbeat(stopping bool) {
	data, err := bus.Encode(bus.Heartbeat{V: bus.MessageVersion, Agent: a.opt.Name, Zone: a.opt.Zone, Version: a.opt.Version,
		Started: a.started.UTC(), At: a.opt.Now().UTC(), Busy: int(a.busy.Load()), Concurrency: a.opt.Concurrency,
		Done: a.done.Load(), Failed: a.failed.Load(), Stopping: stopping})
	if err != nil {
		return
	}
	_ = a.opt.Conn.Publish(bus.HeartbeatSubject(a.opt.Zone, a.opt.Name), data)
}

// sleep waits d or until ctx is done; false when ctx ended.
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
