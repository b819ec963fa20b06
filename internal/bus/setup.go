package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// QueueConfig shapes the streams and consumers.
type QueueConfig struct {
	// Zones get one job consumer each.
	Zones []string
	// AckWait is how long a job may go without an acknowledgement or a
	// progress signal before JetStream redelivers it to another agent.
	AckWait time.Duration
	// JobsMaxAge drops jobs no agent took within it.
	JobsMaxAge time.Duration
	// ResultsMaxBytes bounds the results waiting to be stored; when full,
	// agents' publishes are refused (they retry: nothing is dropped).
	ResultsMaxBytes int64
	// MaxResultBytes bounds one result.
	MaxResultBytes int32
	// DeadMaxAge keeps dead letters in NATS this long (the store keeps
	// them for good).
	DeadMaxAge time.Duration
	// Replicas for a cluster (1 on a single server).
	Replicas int
}

func (c *QueueConfig) defaults() {
	if c.AckWait <= 0 {
		c.AckWait = time.Minute
	}
	if c.JobsMaxAge <= 0 {
		c.JobsMaxAge = 24 * time.Hour
	}
	if c.ResultsMaxBytes <= 0 {
		c.ResultsMaxBytes = 512 << 20
	}
	if c.MaxResultBytes <= 0 {
		c.MaxResultBytes = 4 << 20
	}
	if c.DeadMaxAge <= 0 {
		c.DeadMaxAge = 30 * 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
}

// Setup creates or updates the streams and the consumers (file storage:
// jobs and results survive a NATS restart). It first waits for JetStream
// to answer (a server just started, a connection still authenticating,
// a cluster electing its leader), then makes each stream and consumer,
// retrying what fails for a transient reason; ctx bounds the whole.
func Setup(ctx context.Context, js jetstream.JetStream, cfg QueueConfig) error {
	cfg.defaults()
	if err := Ready(ctx, js); err != nil {
		return err
	}
	streams := []jetstream.StreamConfig{
		{Name: JobsStream, Subjects: []string{allJobs}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
			MaxAge: cfg.JobsMaxAge, Duplicates: 10 * time.Minute, Replicas: cfg.Replicas, Discard: jetstream.DiscardOld},
		{Name: ResultsStream, Subjects: []string{allResults}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
			MaxBytes: cfg.ResultsMaxBytes, Discard: jetstream.DiscardNew, MaxMsgSize: cfg.MaxResultBytes,
			Duplicates: 10 * time.Minute, Replicas: cfg.Replicas},
		{Name: DeadStream, Subjects: []string{allDead}, Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: cfg.DeadMaxAge, Duplicates: 10 * time.Minute, Replicas: cfg.Replicas},
	}
	for _, sc := range streams {
		err := Retry(ctx, "nats stream "+sc.Name, func(ctx context.Context) error {
			_, err := js.CreateOrUpdateStream(ctx, sc)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, z := range cfg.Zones {
		cc := jetstream.ConsumerConfig{
			Durable:       ZoneConsumer(z),
			FilterSubject: JobSubject(z),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       cfg.AckWait,
			// Agents dead-letter a job themselves after the job's
			// max_attempts deliveries, so JetStream never drops one.
			MaxDeliver:    -1,
			MaxAckPending: 10000,
			MaxWaiting:    512,
			Replicas:      cfg.Replicas,
		}
		if err := createConsumer(ctx, js, JobsStream, cc); err != nil {
			return err
		}
	}
	for _, sc := range [][2]string{{ResultsStream, ResultsConsumer}, {DeadStream, DeadConsumer}} {
		cc := jetstream.ConsumerConfig{Durable: sc[1], AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Minute,
			MaxDeliver: -1, MaxAckPending: 4096, Replicas: cfg.Replicas}
		if err := createConsumer(ctx, js, sc[0], cc); err != nil {
			return err
		}
	}
	return nil
}

func createConsumer(ctx context.Context, js jetstream.JetStream, stream string, cc jetstream.ConsumerConfig) error {
	return Retry(ctx, fmt.Sprintf("nats consumer %s on %s", cc.Durable, stream), func(ctx context.Context) error {
		_, err := js.CreateOrUpdateConsumer(ctx, stream, cc)
		return err
	})
}

// Ready waits until JetStream answers on this connection (ctx bounds the
// wait).
func Ready(ctx context.Context, js jetstream.JetStream) error {
	return Retry(ctx, "nats: waiting for JetStream", func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
}

// Consumer looks a durable consumer up, retrying while JetStream does not
// answer (ctx bounds the wait).
func Consumer(ctx context.Context, js jetstream.JetStream, stream, name string) (jetstream.Consumer, error) {
	var c jetstream.Consumer
	err := Retry(ctx, fmt.Sprintf("nats consumer %s on %s", name, stream), func(ctx context.Context) error {
		var err error
		c, err = js.Consumer(ctx, stream, name)
		return err
	})
	return c, err
}
