// Package bus is rampart's use of NATS JetStream between `rampart serve`
// and its scan agents: the subjects, streams and consumers, the messages
// (jobs, results, heartbeats, dead letters) and their limits, the
// permissions an agent's credentials carry, an embedded nats-server that
// serve runs by default, and client connections to it or to an external
// cluster. Agents only ever connect out to NATS; NATS enforces that an
// agent consumes only its own zone's jobs and publishes results only
// under its own name.
package bus

import (
	"fmt"
	"strings"
)

// Streams and their subjects.
const (
	// JobsStream is a work queue of scan jobs, one subject per zone:
	// rampart.jobs.<zone>. Each zone has one durable pull consumer that
	// all the zone's agents share.
	JobsStream = "RAMPART_JOBS"
	// ResultsStream holds results until the server has stored them:
	// rampart.results.<zone>.<agent>.
	ResultsStream = "RAMPART_RESULTS"
	// DeadStream keeps dead-lettered jobs: rampart.dead.<zone>.<agent>.
	DeadStream = "RAMPART_DEAD"

	// ResultsConsumer and DeadConsumer are the server's durable consumers.
	ResultsConsumer = "rampart-server"
	DeadConsumer    = "rampart-server"

	subjectPrefix = "rampart"
)

// JobSubject is where a zone's jobs are published.
func JobSubject(zone string) string { return fmt.Sprintf("%s.jobs.%s", subjectPrefix, zone) }

// ZoneConsumer is the durable consumer of a zone's jobs.
func ZoneConsumer(zone string) string { return "zone_" + zone }

// ResultSubject is where an agent publishes its results.
func ResultSubject(zone, agent string) string {
	return fmt.Sprintf("%s.results.%s.%s", subjectPrefix, zone, agent)
}

// DeadSubject is where an agent puts a job it gives up on.
func DeadSubject(zone, agent string) string {
	return fmt.Sprintf("%s.dead.%s.%s", subjectPrefix, zone, agent)
}

// HeartbeatSubject is where an agent says it is alive (core NATS).
func HeartbeatSubject(zone, agent string) string {
	return fmt.Sprintf("%s.hb.%s.%s", subjectPrefix, zone, agent)
}

// FailSubject is where an agent reports a job attempt that failed
// (core NATS; the job is redelivered).
func FailSubject(zone, agent string) string {
	return fmt.Sprintf("%s.fail.%s.%s", subjectPrefix, zone, agent)
}

// InboxPrefix is an agent's private reply subject space.
func InboxPrefix(agent string) string { return "_INBOX_" + agent }

// Wildcards the server subscribes to.
const (
	allResults    = subjectPrefix + ".results.*.*"
	allDead       = subjectPrefix + ".dead.*.*"
	allJobs       = subjectPrefix + ".jobs.*"
	AllHeartbeats = subjectPrefix + ".hb.*.*"
	AllFailures   = subjectPrefix + ".fail.*.*"
)

// SubjectIdentity returns the zone and agent tokens of a results, dead,
// heartbeat or failure subject: who published it, as NATS permissions
// guarantee.
func SubjectIdentity(subject string) (zone, agent string, ok bool) {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 || parts[0] != subjectPrefix || parts[2] == "" || parts[3] == "" {
		return "", "", false
	}
	return parts[2], parts[3], true
}
