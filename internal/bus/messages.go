package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/jsonstrict"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// MessageVersion is the version of the messages' JSON form.
const MessageVersion = 1

// Job asks an agent of a zone to scan one target.
type Job struct {
	V int `json:"v"`
	// ID is "<round>.<zone>.<index>": unique, and what results are
	// deduplicated by.
	ID       string `json:"id"`
	Round    int64  `json:"round"`
	Zone     string `json:"zone"`
	Index    int    `json:"index"`
	Schedule string `json:"schedule"`
	// Target is the inventory target, with the zone's role set and the
	// ports widened to what its expectations name.
	Target target.Target `json:"target"`
	Scan   ScanOptions   `json:"scan"`
	// MaxAttempts: a job delivered more often than this (its agents kept
	// dying on it, or its result could not be published) is dead-lettered.
	MaxAttempts int       `json:"max_attempts"`
	IssuedAt    time.Time `json:"issued_at"`
	// ExpiresAt: an agent that gets the job later skips it.
	ExpiresAt time.Time `json:"expires_at"`
}

// ScanOptions tune an agent's scan of a job.
type ScanOptions struct {
	Timeout      time.Duration `json:"timeout"`
	Intrusive    bool          `json:"intrusive,omitempty"`
	CertWarnDays int           `json:"cert_warn_days,omitempty"`
	PerHost      int           `json:"per_host,omitempty"`
	Only         []string      `json:"only,omitempty"`
	Skip         []string      `json:"skip,omitempty"`
}

// JobID makes a job's ID.
func JobID(round int64, zone string, index int) string {
	return fmt.Sprintf("%d.%s.%d", round, zone, index)
}

// ParseJobID splits a job ID into its round, zone and index.
func ParseJobID(id string) (round int64, zone string, index int, err error) {
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return 0, "", 0, fmt.Errorf("job id %.60q: want round.zone.index", id)
	}
	round, err1 := strconv.ParseInt(parts[0], 10, 64)
	index, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || round <= 0 || index < 0 || !target.ValidZoneName(parts[1]) {
		return 0, "", 0, fmt.Errorf("job id %.60q: want round.zone.index", id)
	}
	return round, parts[1], index, nil
}

// Validate checks a job an agent received.
func (j *Job) Validate() error {
	if j.V != MessageVersion {
		return fmt.Errorf("job: version %d, this agent speaks %d", j.V, MessageVersion)
	}
	round, z, idx, err := ParseJobID(j.ID)
	if err != nil {
		return err
	}
	if round != j.Round || z != j.Zone || idx != j.Index {
		return fmt.Errorf("job %s: id does not match its round, zone and index", j.ID)
	}
	t := j.Target
	if t.Kind != target.Endpoint && t.Kind != target.Node {
		return fmt.Errorf("job %s: target kind %q: agents scan endpoints and nodes", j.ID, t.Kind)
	}
	if t.Name == "" || t.Host == "" || t.Port < 0 || t.Port > 65535 || t.Kind == target.Endpoint && t.Port == 0 {
		return fmt.Errorf("job %s: target needs a name, a host and (for an endpoint) a port", j.ID)
	}
	if _, err := target.ParsePorts(t.Decl.Ports); err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	if j.Scan.Timeout <= 0 || j.Scan.Timeout > 24*time.Hour {
		return fmt.Errorf("job %s: scan timeout %s out of range", j.ID, j.Scan.Timeout)
	}
	if j.MaxAttempts < 1 || j.MaxAttempts > 100 {
		return fmt.Errorf("job %s: max_attempts %d out of range 1-100", j.ID, j.MaxAttempts)
	}
	return nil
}

// Result is what an agent made of a job.
type Result struct {
	V       int    `json:"v"`
	Job     string `json:"job"`
	Zone    string `json:"zone"`
	Agent   string `json:"agent"`
	Version string `json:"version"`
	// Target is the job's target name.
	Target     string    `json:"target"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Report holds the findings judged from the zone (its role set).
	Report *finding.Report `json:"report,omitempty"`
	// Observation is what the zone reached of the target.
	Observation *zone.Observation `json:"observation,omitempty"`
	// Error says why there is no report: the scan could not run at all.
	Error string `json:"error,omitempty"`
}

// Limits on a result the server accepts.
const (
	maxResultTargets  = 4096
	maxResultFindings = 200000
	maxText           = 4096
)

// compressedPrefix marks a result compressed with S2 (JSON of findings
// shrinks several times: less to carry, and less for JetStream to keep).
const compressedPrefix = "\x00s2"

// EncodeResult marshals a result and compresses it.
func EncodeResult(r *Result) ([]byte, error) {
	b, err := Encode(r)
	if err != nil {
		return nil, err
	}
	return append([]byte(compressedPrefix), s2.EncodeBetter(nil, b)...), nil
}

// uncompress undoes EncodeResult, refusing anything that would expand
// beyond maxMessage.
func uncompress(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(compressedPrefix)) {
		return data, nil
	}
	data = data[len(compressedPrefix):]
	n, err := s2.DecodedLen(data)
	if err != nil {
		return nil, fmt.Errorf("compressed result: %w", err)
	}
	if n > maxMessage {
		return nil, fmt.Errorf("compressed result expands to %d bytes: larger than %d", n, maxMessage)
	}
	out, err := s2.Decode(nil, data)
	if err != nil {
		return nil, fmt.Errorf("compressed result: %w", err)
	}
	return out, nil
}

// DecodeResult reads and checks a result message (compressed or not).
func DecodeResult(data []byte) (*Result, error) {
	data, err := uncompress(data)
	if err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	var r Result
	if err := strictDecode(data, &r); err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("result %.60q: %w", r.Job, err)
	}
	return &r, nil
}

func (r *Result) validate() error {
	if r.V != MessageVersion {
		return fmt.Errorf("version %d, want %d", r.V, MessageVersion)
	}
	if _, z, _, err := ParseJobID(r.Job); err != nil {
		return err
	} else if z != r.Zone {
		return fmt.Errorf("job of zone %s reported as zone %s", z, r.Zone)
	}
	if !target.ValidZoneName(r.Agent) || r.Target == "" || len(r.Target) > maxText || len(r.Version) > 200 || len(r.Error) > maxText {
		return errors.New("bad agent, target, version or error")
	}
	if r.Error == "" && (r.Report == nil || r.Observation == nil) {
		return errors.New("neither a report and observation nor an error")
	}
	if r.Observation != nil {
		if err := r.Observation.Validate(); err != nil {
			return err
		}
	}
	if rep := r.Report; rep != nil {
		if len(rep.Targets) > maxResultTargets || len(rep.Findings) > maxResultFindings {
			return fmt.Errorf("report: %d targets, %d findings: too many", len(rep.Targets), len(rep.Findings))
		}
		names := map[string]bool{}
		for _, t := range rep.Targets {
			if t.Name == "" || len(t.Name) > maxText || strings.Contains(t.Name, "@") {
				return fmt.Errorf("report: bad target name %.60q", t.Name)
			}
			names[t.Name] = true
		}
		for _, f := range rep.Findings {
			if _, err := finding.ParseStatus(string(f.Status)); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			if !names[f.Target] {
				return fmt.Errorf("report: finding %s on %.60q, which the report does not list", f.RuleID, f.Target)
			}
			if f.RuleID == "" || len(f.RuleID) > 64 {
				return errors.New("report: bad rule ID")
			}
			if _, err := f.Severity.MarshalText(); err != nil {
				return fmt.Errorf("report: finding %s: %w", f.RuleID, err)
			}
		}
	}
	return nil
}

// Heartbeat is an agent's periodic sign of life.
type Heartbeat struct {
	V       int       `json:"v"`
	Agent   string    `json:"agent"`
	Zone    string    `json:"zone"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	// Busy is how many jobs it is scanning; Concurrency how many it may.
	Busy        int   `json:"busy"`
	Concurrency int   `json:"concurrency"`
	Done        int64 `json:"done"`
	Failed      int64 `json:"failed"`
	// Stopping: the agent is shutting down (its last heartbeat).
	Stopping bool `json:"stopping,omitempty"`
}

// DecodeHeartbeat reads and checks a heartbeat.
func DecodeHeartbeat(data []byte) (*Heartbeat, error) {
	var h Heartbeat
	if err := strictDecode(data, &h); err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	if h.V != MessageVersion || !target.ValidZoneName(h.Agent) || !target.ValidZoneName(h.Zone) || len(h.Version) > 200 || h.Busy < 0 || h.Concurrency < 0 {
		return nil, errors.New("heartbeat: bad version, agent, zone or counts")
	}
	return &h, nil
}

// Failure reports one failed attempt at a job (the job is redelivered).
type Failure struct {
	V        int       `json:"v"`
	Job      string    `json:"job"`
	Agent    string    `json:"agent"`
	Zone     string    `json:"zone"`
	Delivery int       `json:"delivery"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

// DecodeFailure reads and checks a failure notice.
func DecodeFailure(data []byte) (*Failure, error) {
	var f Failure
	if err := strictDecode(data, &f); err != nil {
		return nil, fmt.Errorf("failure: %w", err)
	}
	if _, _, _, err := ParseJobID(f.Job); err != nil || f.V != MessageVersion || !target.ValidZoneName(f.Agent) || len(f.Error) > maxText {
		return nil, errors.New("failure: bad version, job, agent or error")
	}
	return &f, nil
}

// DeadLetter is a job given up on after too many deliveries.
type DeadLetter struct {
	V          int       `json:"v"`
	Job        Job       `json:"job"`
	Agent      string    `json:"agent"`
	Zone       string    `json:"zone"`
	Deliveries int       `json:"deliveries"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// DecodeDeadLetter reads and checks a dead letter.
func DecodeDeadLetter(data []byte) (*DeadLetter, error) {
	var d DeadLetter
	if err := strictDecode(data, &d); err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	if _, z, _, err := ParseJobID(d.Job.ID); err != nil || z != d.Zone || d.V != MessageVersion || !target.ValidZoneName(d.Agent) || len(d.Reason) > maxText {
		return nil, errors.New("dead letter: bad version, job, zone, agent or reason")
	}
	return &d, nil
}

// DecodeJob reads and checks a job.
func DecodeJob(data []byte) (*Job, error) {
	var j Job
	if err := strictDecode(data, &j); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if err := j.Validate(); err != nil {
		return nil, err
	}
	return &j, nil
}

// maxMessage bounds any message decoded (NATS bounds it too).
const maxMessage = 64 << 20

// strictDecode decodes one message's JSON: one value only, anything after
// it refused. jsonstrict.Unmarshal decodes what encoding/json's Decoder
// (jsonstrict.Decode, what it used before) decodes, to the same value,
// and refuses what it refuses (TestDecodeIsEncodingJSON and the fuzz
// targets hold every message type to that), in half the time: it was most
// of serve's cost of a result (BenchmarkDecodeResult).
func strictDecode(data []byte, v any) error {
	if len(data) > maxMessage {
		return fmt.Errorf("%d bytes: larger than %d", len(data), maxMessage)
	}
	return jsonstrict.Unmarshal(data, v)
}

// Encode marshals a message.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}
