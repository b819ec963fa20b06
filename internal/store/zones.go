package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrDuplicateJob is returned by SaveRun when one of the run's jobs is
// already stored: a job is stored exactly once, whatever NATS redelivers.
var ErrDuplicateJob = errors.New("job already stored")

// JobClaim is one zone job a run stores (RunInput.Jobs), or a dead one.
type JobClaim struct {
	ID     string    `json:"id"`
	Round  int64     `json:"round"`
	Zone   string    `json:"zone"`
	Target string    `json:"target"`
	Agent  string    `json:"agent"`
	State  string    `json:"state"`
	RunID  int64     `json:"run_id,omitempty"`
	At     time.Time `json:"at"`
}

// Job states.
const (
	JobDone   = "done"
	JobDead   = "dead"
	JobJudged = "judged"
)

// claimJobs records a run's jobs in its transaction; a job already stored
// fails the whole run with ErrDuplicateJob. A dead-lettered job whose
// result arrives after all is stored (the result wins).
func (s *SQL) claimJobs(ctx context.Context, tx *sql.Tx, runID int64, jobs []JobClaim, now time.Time) error {
	for _, j := range jobs {
		state := j.State
		if state == "" {
			state = JobDone
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_jobs (job_id, round_id, zone, target, agent, state, run_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, run_id = excluded.run_id, agent = excluded.agent, at = excluded.at
WHERE zone_jobs.state = 'dead'`), j.ID, j.Round, j.Zone, j.Target, j.Agent, state, runID, ms0(now))
		if err != nil {
			return fmt.Errorf("claim job %s: %w", j.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("claim job %s: %w", j.ID, err)
		} else if n == 0 {
			return fmt.Errorf("job %s: %w", j.ID, ErrDuplicateJob)
		}
	}
	return nil
}

// StoredJobs returns which of the job IDs are already stored (done or
// judged; not dead).
func (s *SQL) StoredJobs(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT job_id FROM zone_jobs WHERE state <> 'dead' AND job_id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + `)`
		got, err := queryAll(ctx, s, "stored jobs", func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		}, q, args...)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// RoundJobs returns the jobs of a round that ended (stored or dead).
func (s *SQL) RoundJobs(ctx context.Context, round int64) ([]JobClaim, error) {
	return queryAll(ctx, s, "round jobs", func(sc scanner) (JobClaim, error) {
		var j JobClaim
		var run sql.NullInt64
		var at int64
		err := sc.Scan(&j.ID, &j.Round, &j.Zone, &j.Target, &j.Agent, &j.State, &run, &at)
		j.RunID, j.At = run.Int64, fromMS(at)
		return j, err
	}, `SELECT job_id, round_id, zone, target, agent, state, run_id, at FROM zone_jobs WHERE round_id = ? ORDER BY job_id`, round)
}

// ZoneRound is one schedule's fan-out to the zones.
type ZoneRound struct {
	ID        int64      `json:"id"`
	Schedule  string     `json:"schedule"`
	StartedAt time.Time  `json:"started_at"`
	Deadline  time.Time  `json:"deadline"`
	TotalJobs int        `json:"total_jobs"`
	Plan      []string   `json:"plan"`
	JudgedAt  *time.Time `json:"judged_at,omitempty"`
	// ExposureRunID is the run holding the verdicts across zones.
	ExposureRunID int64 `json:"exposure_run_id,omitempty"`
	// Done and Dead count the round's jobs that ended (RoundsSummary).
	Done int `json:"done"`
	Dead int `json:"dead"`
}

// CreateRound records a round and returns its ID.
func (s *SQL) CreateRound(ctx context.Context, r ZoneRound) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO zone_rounds (schedule, started_at, deadline, total_jobs, plan) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		r.Schedule, ms0(r.StartedAt), ms0(r.Deadline), r.TotalJobs, mustJSON(r.Plan)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create round: %w", err)
	}
	return id, nil
}

// SetRoundJobs records how many jobs a round published.
func (s *SQL) SetRoundJobs(ctx context.Context, id int64, total int) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE zone_rounds SET total_jobs = ? WHERE id = ?`), total, id)
	if err != nil {
		return fmt.Errorf("round %d: %w", id, err)
	}
	return nil
}

const roundCols = `id, schedule, started_at, deadline, total_jobs, plan, judged_at, exposure_run_id`

func scanRound(sc scanner) (ZoneRound, error) {
	var r ZoneRound
	var started, deadline int64
	var judged, run sql.NullInt64
	var plan string
	if err := sc.Scan(&r.ID, &r.Schedule, &started, &deadline, &r.TotalJobs, &plan, &judged, &run); err != nil {
		return r, err
	}
	r.StartedAt, r.Deadline, r.JudgedAt, r.ExposureRunID = fromMS(started), fromMS(deadline), fromNullMS(judged), run.Int64
	return r, json.Unmarshal([]byte(plan), &r.Plan)
}

// OpenRounds returns the rounds not judged yet, oldest first.
func (s *SQL) OpenRounds(ctx context.Context) ([]ZoneRound, error) {
	return queryAll(ctx, s, "open rounds", scanRound, `SELECT `+roundCols+` FROM zone_rounds WHERE judged_at IS NULL ORDER BY id`)
}

// RecentRounds returns the latest rounds with their counts of jobs that
// ended, newest first.
func (s *SQL) RecentRounds(ctx context.Context, limit int) ([]ZoneRound, error) {
	rs, err := queryAll(ctx, s, "rounds", scanRound, `SELECT `+roundCols+` FROM zone_rounds ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rs[i].Plan = nil // not needed in lists
		type count struct {
			state string
			n     int
		}
		counts, err := queryAll(ctx, s, "round counts", func(sc scanner) (count, error) {
			var c count
			return c, sc.Scan(&c.state, &c.n)
		}, `SELECT state, COUNT(*) FROM zone_jobs WHERE round_id = ? GROUP BY state`, rs[i].ID)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			switch c.state {
			case JobDone:
				rs[i].Done = c.n
			case JobDead:
				rs[i].Dead = c.n
			}
		}
	}
	return rs, nil
}

// FinishRound marks a round judged, with the run of its verdicts.
func (s *SQL) FinishRound(ctx context.Context, id int64, at time.Time, runID int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE zone_rounds SET judged_at = ?, exposure_run_id = ? WHERE id = ?`), ms0(at), runID, id)
	if err != nil {
		return fmt.Errorf("finish round %d: %w", id, err)
	}
	return nil
}

// JudgedRun returns the run a round's exposure claim stored (0 if none).
func (s *SQL) JudgedRun(ctx context.Context, claimID string) (int64, error) {
	var run sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT run_id FROM zone_jobs WHERE job_id = ?`), claimID).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("judged run: %w", err)
	}
	return run.Int64, nil
}

// ZoneReach is the latest observation of a target from a zone.
type ZoneReach struct {
	Target    string    `json:"target"`
	Zone      string    `json:"zone"`
	Round     int64     `json:"round"`
	JobID     string    `json:"job_id"`
	Agent     string    `json:"agent"`
	ScannedAt time.Time `json:"scanned_at"`
	// Data is JSON (the coordinator's: observation and verdicts).
	Data string `json:"data"`
}

// SaveReach upserts observations; an older round never replaces a newer.
func (s *SQL) SaveReach(ctx context.Context, rows []ZoneReach) error {
	if len(rows) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return s.saveReach(ctx, tx, rows) })
}

func (s *SQL) saveReach(ctx context.Context, tx *sql.Tx, rows []ZoneReach) error {
	for _, r := range rows {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_reach (target, zone, round_id, job_id, agent, scanned_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (target, zone) DO UPDATE SET round_id = excluded.round_id, job_id = excluded.job_id, agent = excluded.agent,
  scanned_at = excluded.scanned_at, data = excluded.data
WHERE excluded.round_id > zone_reach.round_id OR (excluded.round_id = zone_reach.round_id AND excluded.scanned_at >= zone_reach.scanned_at)`),
			r.Target, r.Zone, r.Round, r.JobID, r.Agent, ms0(r.ScannedAt), r.Data)
		if err != nil {
			return fmt.Errorf("reach %s from %s: %w", r.Target, r.Zone, err)
		}
	}
	return nil
}

// ZoneExposure is a target's exposure matrix as last judged.
type ZoneExposure struct {
	Target     string    `json:"target"`
	Round      int64     `json:"round"`
	JudgedAt   time.Time `json:"judged_at"`
	Violations int       `json:"violations"`
	Mismatches int       `json:"mismatches"`
	// Matrix is JSON (zone.Matrix); empty in lists.
	Matrix string `json:"-"`
}

// SaveExposure upserts matrices.
func (s *SQL) SaveExposure(ctx context.Context, rows []ZoneExposure) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_exposure (target, round_id, judged_at, violations, mismatches, matrix) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (target) DO UPDATE SET round_id = excluded.round_id, judged_at = excluded.judged_at, violations = excluded.violations,
  mismatches = excluded.mismatches, matrix = excluded.matrix WHERE excluded.round_id >= zone_exposure.round_id`),
				r.Target, r.Round, ms0(r.JudgedAt), r.Violations, r.Mismatches, r.Matrix)
			if err != nil {
				return fmt.Errorf("exposure of %s: %w", r.Target, err)
			}
		}
		return nil
	})
}

// Exposure returns one target's matrix.
func (s *SQL) Exposure(ctx context.Context, target string) (ZoneExposure, error) {
	var r ZoneExposure
	var at int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT target, round_id, judged_at, violations, mismatches, matrix FROM zone_exposure WHERE target = ?`), target).
		Scan(&r.Target, &r.Round, &at, &r.Violations, &r.Mismatches, &r.Matrix)
	if err != nil {
		return r, notFound(err, "exposure of "+target)
	}
	r.JudgedAt = fromMS(at)
	return r, nil
}

// Exposures lists every target's matrix summary (no matrix), most
// violations first.
func (s *SQL) Exposures(ctx context.Context, limit int) ([]ZoneExposure, error) {
	return queryAll(ctx, s, "exposures", func(sc scanner) (ZoneExposure, error) {
		var r ZoneExposure
		var at int64
		err := sc.Scan(&r.Target, &r.Round, &at, &r.Violations, &r.Mismatches)
		r.JudgedAt = fromMS(at)
		return r, err
	}, `SELECT target, round_id, judged_at, violations, mismatches FROM zone_exposure ORDER BY violations DESC, mismatches DESC, target LIMIT ?`, limit)
}

// ZoneAgent is an agent's credential record.
type ZoneAgent struct {
	Name string `json:"name"`
	Zone string `json:"zone"`
	// Kind is password (Secret: a bcrypt hash) or nkey (Secret: the
	// public key).
	Kind      string     `json:"kind"`
	Secret    string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	Version   string     `json:"version,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
}

// CreateZoneAgent adds an agent's credentials and records a, in one
// transaction. A name in use (revoked ones included) is ErrExists.
func (s *SQL) CreateZoneAgent(ctx context.Context, ag ZoneAgent, a Audit) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM zone_agents WHERE name = ?`), ag.Name).Scan(&n); err != nil {
			return fmt.Errorf("agent %s: %w", ag.Name, err)
		}
		if n > 0 {
			return fmt.Errorf("agent %s: %w", ag.Name, ErrExists)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_agents (name, zone, kind, secret, created_at, created_by, version) VALUES (?, ?, ?, ?, ?, ?, '')`),
			ag.Name, ag.Zone, ag.Kind, ag.Secret, ms0(ag.CreatedAt), ag.CreatedBy)
		if err != nil {
			return fmt.Errorf("agent %s: %w", ag.Name, err)
		}
		return s.audit(ctx, tx, a)
	})
}

// RevokeZoneAgent revokes an agent's credentials for good and records a.
func (s *SQL) RevokeZoneAgent(ctx context.Context, name string, at time.Time, by string, a Audit) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE zone_agents SET revoked_at = ?, revoked_by = ? WHERE name = ? AND revoked_at IS NULL`), ms0(at), by, name)
		if err != nil {
			return fmt.Errorf("revoke agent %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("agent %s: %w", name, ErrNotFound)
		}
		return s.audit(ctx, tx, a)
	})
}

// ZoneAgents lists every agent, by name.
func (s *SQL) ZoneAgents(ctx context.Context) ([]ZoneAgent, error) {
	return queryAll(ctx, s, "agents", func(sc scanner) (ZoneAgent, error) {
		var a ZoneAgent
		var created int64
		var revoked, seen, started sql.NullInt64
		var by sql.NullString
		err := sc.Scan(&a.Name, &a.Zone, &a.Kind, &a.Secret, &created, &a.CreatedBy, &revoked, &by, &seen, &a.Version, &started)
		a.CreatedAt, a.RevokedAt, a.RevokedBy, a.LastSeen, a.StartedAt = fromMS(created), fromNullMS(revoked), by.String, fromNullMS(seen), fromNullMS(started)
		return a, err
	}, `SELECT name, zone, kind, secret, created_at, created_by, revoked_at, revoked_by, last_seen, version, started_at FROM zone_agents ORDER BY name`)
}

// TouchZoneAgent records an agent's heartbeat.
func (s *SQL) TouchZoneAgent(ctx context.Context, name string, seen time.Time, version string, started time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE zone_agents SET last_seen = ?, version = ?, started_at = ? WHERE name = ?`),
		ms0(seen), clip(version, 200), nullMS(started), name)
	if err != nil {
		return fmt.Errorf("agent %s heartbeat: %w", name, err)
	}
	return nil
}

// DeadJob is a job given up on.
type DeadJob struct {
	JobID      string    `json:"job_id"`
	Round      int64     `json:"round"`
	Zone       string    `json:"zone"`
	Target     string    `json:"target"`
	Agent      string    `json:"agent"`
	Deliveries int       `json:"deliveries"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
	// Job is the job's JSON.
	Job string `json:"-"`
}

// SaveDeadJob records a dead letter (once) and marks its job dead unless
// it was stored after all.
func (s *SQL) SaveDeadJob(ctx context.Context, d DeadJob) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_dead (job_id, round_id, zone, target, agent, deliveries, reason, at, job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id) DO NOTHING`), d.JobID, d.Round, d.Zone, d.Target, d.Agent, d.Deliveries, clip(d.Reason, 4000), ms0(d.At), d.Job)
		if err != nil {
			return fmt.Errorf("dead job %s: %w", d.JobID, err)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO zone_jobs (job_id, round_id, zone, target, agent, state, at) VALUES (?, ?, ?, ?, ?, 'dead', ?)
ON CONFLICT (job_id) DO NOTHING`), d.JobID, d.Round, d.Zone, d.Target, d.Agent, ms0(d.At))
		if err != nil {
			return fmt.Errorf("dead job %s: %w", d.JobID, err)
		}
		return nil
	})
}

// DeadJobs lists dead letters, newest first.
func (s *SQL) DeadJobs(ctx context.Context, limit int) ([]DeadJob, error) {
	return queryAll(ctx, s, "dead jobs", func(sc scanner) (DeadJob, error) {
		var d DeadJob
		var at int64
		err := sc.Scan(&d.JobID, &d.Round, &d.Zone, &d.Target, &d.Agent, &d.Deliveries, &d.Reason, &at, &d.Job)
		d.At = fromMS(at)
		return d, err
	}, `SELECT job_id, round_id, zone, target, agent, deliveries, reason, at, job FROM zone_dead ORDER BY at DESC, job_id LIMIT ?`, limit)
}

// CountDeadJobs counts dead letters.
func (s *SQL) CountDeadJobs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM zone_dead`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count dead jobs: %w", err)
	}
	return n, nil
}

// PruneZones drops the job records of rounds judged before a time (the
// rounds themselves stay, as a short history) and dead letters older
// than it.
func (s *SQL) PruneZones(ctx context.Context, before time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM zone_jobs WHERE round_id IN (SELECT id FROM zone_rounds WHERE judged_at IS NOT NULL AND judged_at < ?)`), ms0(before)); err != nil {
			return fmt.Errorf("prune zone jobs: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM zone_dead WHERE at < ?`), ms0(before)); err != nil {
			return fmt.Errorf("prune dead jobs: %w", err)
		}
		return nil
	})
}

// Round returns one round.
func (s *SQL) Round(ctx context.Context, id int64) (ZoneRound, error) {
	r, err := scanRound(s.db.QueryRowContext(ctx, s.q(`SELECT `+roundCols+` FROM zone_rounds WHERE id = ?`), id))
	if err != nil {
		return r, notFound(err, fmt.Sprintf("round %d", id))
	}
	return r, nil
}

// RoundCounts counts a round's jobs that ended (stored or dead), by zone.
func (s *SQL) RoundCounts(ctx context.Context, round int64) (map[string]int, error) {
	type count struct {
		zone string
		n    int
	}
	rows, err := queryAll(ctx, s, "round counts", func(sc scanner) (count, error) {
		var c count
		return c, sc.Scan(&c.zone, &c.n)
	}, `SELECT zone, COUNT(*) FROM zone_jobs WHERE round_id = ? AND state IN ('done', 'dead') GROUP BY zone`, round)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, c := range rows {
		out[c.zone] = c.n
	}
	return out, nil
}

// ReachFor returns the observations of some targets from rounds from
// round on.
func (s *SQL) ReachFor(ctx context.Context, round int64, targets []string) ([]ZoneReach, error) {
	var out []ZoneReach
	err := inChunks(targets, func(chunk []any, marks string) error {
		rows, err := queryAll(ctx, s, "reach", func(sc scanner) (ZoneReach, error) {
			var r ZoneReach
			var at int64
			err := sc.Scan(&r.Target, &r.Zone, &r.Round, &r.JobID, &r.Agent, &at, &r.Data)
			r.ScannedAt = fromMS(at)
			return r, err
		}, `SELECT target, zone, round_id, job_id, agent, scanned_at, data FROM zone_reach WHERE round_id >= ? AND target IN (`+marks+`)`, append([]any{round}, chunk...)...)
		out = append(out, rows...)
		return err
	})
	return out, err
}
