package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	// Database drivers: pure-Go SQLite and pgx for PostgreSQL.
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

//go:embed migrations
var migrationFS embed.FS

// DBFile is the SQLite database's name inside the data directory.
const DBFile = "rampart.db"

// Open opens the store named by spec: a postgres:// (or postgresql://)
// DSN, or else a data directory holding a SQLite database (created 0700,
// the database file 0600). Migrations are applied before it returns.
func Open(ctx context.Context, spec string) (*SQL, error) {
	return open(ctx, spec, 0)
}

// OpenVersion opens the store with the migrations up to version upTo
// only: for tools that write a store of an earlier schema (the history
// benchmark's seeder), which Open then brings up to date.
func OpenVersion(ctx context.Context, spec string, upTo int) (*SQL, error) {
	if upTo <= 0 {
		return nil, fmt.Errorf("store: schema version %d", upTo)
	}
	return open(ctx, spec, upTo)
}

// open opens the store with migrations up to version upTo (all when 0).
func open(ctx context.Context, spec string, upTo int) (*SQL, error) {
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		return openPostgres(ctx, spec, upTo)
	}
	return openSQLite(ctx, spec, upTo)
}

func openSQLite(ctx context.Context, dir string, upTo int) (*SQL, error) {
	if dir == "" {
		return nil, fmt.Errorf("store: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	// Create the file with owner-only permissions before SQLite does.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "busy_timeout(15000)", "synchronous(FULL)", "foreign_keys(1)"}, pragmas...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	// Transactions (every one writes: SQLite has one writer at a time)
	// go through one connection of their own, whose page cache holds
	// the indexes a run's findings go into between runs and whose
	// statement journals stay in memory; the readers keep SQLite's
	// small default cache.
	wdb, err := sql.Open("sqlite", dsn(fmt.Sprintf("cache_size(%d)", -writerCacheKiB), "temp_store(MEMORY)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages)))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	s := &SQL{db: db, wdb: wdb, dialect: "sqlite"}
	if err := s.migrate(ctx, upTo); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.afterMigrations(ctx, upTo); err != nil {
		s.Close()
		return nil, err
	}
	s.ckpt = startCheckpointer(db)
	return s, nil
}

// The SQLite writer's page cache (KiB) and how many pages its write-ahead
// log grows to before the writer copies it into the database itself
// (SQLite's default is 1,000): the checkpointer does it first, beside
// the writer, once a second at most (pages rewritten meanwhile are copied
// once); this is for when it cannot keep up.
const (
	writerCacheKiB     = 16 << 10
	walCheckpointPages = 16000
	checkpointEvery    = time.Second
)

// checkpointer runs SQLite's checkpoints (the write-ahead log copied into
// the database file, and synced) on a connection of the readers' pool
// after transactions commit, so that the writer does not: a checkpoint
// was a quarter of a zone batch's time in the writer (docs/serve.md).
// PASSIVE: it copies what no reader still needs and never waits for the
// writer or the readers. A nil checkpointer does nothing.
type checkpointer struct {
	kicks  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{kicks: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.kicks:
			}
			var busy, log, copied int
			// An error leaves the log to the writer's own checkpoint.
			_ = db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
			t := time.NewTimer(checkpointEvery)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return c
}

// kick asks for a checkpoint (a write transaction committed).
func (c *checkpointer) kick() {
	if c == nil {
		return
	}
	select {
	case c.kicks <- struct{}{}:
	default:
	}
}

// close stops the checkpointer and waits for it.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.cancel()
	<-c.done
}

func openPostgres(ctx context.Context, dsn string, upTo int) (*SQL, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// Every statement is planned for its own arguments. pgx prepares
	// statements, and after five executions PostgreSQL may switch to a
	// generic plan made for the average argument: a target's findings
	// planned for 31 findings (hash join and sort) took 0.84-0.93 s for the
	// target of 100,000 findings of history.sh, 3.5 ms by its custom plan
	// (index order, 100 rows). Planning costs a fraction of a millisecond a
	// statement. A plan_cache_mode in the DSN is kept.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	s := &SQL{db: db, wdb: db, dialect: "postgres"}
	if err := s.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.afterMigrations(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number", name)
		}
		b, err := fs.ReadFile(migrationFS, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the migrations not yet applied (up to version upTo
// when it is > 0), each in its own transaction (on PostgreSQL under an
// advisory lock, so two servers starting at once do not race).
func (s *SQL) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return err
	}
	if upTo > 0 {
		for i, m := range ms {
			if m.version > upTo {
				ms = ms[:i]
				break
			}
		}
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, m := range ms {
		err := s.migrationTx(ctx, func(tx *sql.Tx) error {
			if s.dialect == "postgres" {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7261706172)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, ms0(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// compareKeysVersion is the migration that added the runs' target
// digests (0011_compare_keys).
const compareKeysVersion = 11

// afterMigrations does what the migrations up to upTo leave to Go: the
// target digests of runs stored before they were kept.
func (s *SQL) afterMigrations(ctx context.Context, upTo int) error {
	if upTo > 0 && upTo < compareKeysVersion {
		return nil
	}
	return s.keepTargetsKeys(ctx)
}

// migrationTx runs a migration in a transaction of the readers' pool
// rather than of the SQLite writer connection: the writer keeps its
// temporary files in memory (temp_store MEMORY, for SaveRun's statement
// journals), and a migration's statement journal holds the old pages of
// every row an UPDATE of a whole table touches: on a 1.2 GB store
// (10,000 targets x 100 runs) migrations 9 to 13 peaked at 676 MiB RSS
// that way, and at 112 MiB with SQLite's default temporary files (on disk).
// PostgreSQL's two pools are one.
func (s *SQL) migrationTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.db, fn)
}

// SchemaVersion returns the highest applied migration.
func (s *SQL) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}
