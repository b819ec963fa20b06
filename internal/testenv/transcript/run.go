package transcript

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/entropy"
)

// Target is what a test probes: the server's address, and what the live
// server told the test besides (kept in the recording for the replay).
type Target struct {
	Addr string
	Meta map[string]string
}

// Case is one conversation to record and replay.
type Case struct {
	// Name names the recording: testdata/transcripts/<Name>.json.gz.
	Name string
	// Live finds or starts the live server; it reports a missing one
	// through testenv (a skip, a failure under RAMPART_EVAL=1).
	Live func(t *testing.T) Target
	// Check runs the probe through env against tg and asserts its facts.
	// It must use env as given (its Dialer, Entropy and clock), and may
	// set the fields a scan would (CABundle, PerHost).
	Check func(t *testing.T, env *collect.Env, tg Target)
}

// Path is where a case's recording lives.
func Path(name string) string {
	return filepath.Join("testdata", "transcripts", name+".json.gz")
}

// Run runs c twice: "live", against the server (recording the
// conversation when update is set: go test -update), and "replay", from
// the recording, with no network at all. Both assert the same facts.
func Run(t *testing.T, c Case, update bool) {
	t.Helper()
	path := Path(c.Name)
	ran := false
	t.Run("live", func(t *testing.T) {
		tg := c.Live(t)
		ran = true
		rec := &Recorder{}
		start := time.Now().UTC().Truncate(time.Second)
		env := &collect.Env{Dialer: rec, Entropy: entropy.Seeded{Seed: c.Name}}
		c.Check(t, env, tg)
		if !update {
			return
		}
		if t.Failed() {
			t.Fatalf("not recording %s: the live run failed", path)
		}
		f := &File{Recorded: start, Seed: c.Name, Target: tg.Addr, Meta: tg.Meta, Conns: rec.Conns()}
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %d connections to %s", len(f.Conns), path)
	})
	if update && !ran {
		t.Fatalf("-update: the live server is not there, so %s was not recorded again", path)
	}
	t.Run("replay", func(t *testing.T) {
		f, err := Load(path)
		if err != nil {
			t.Fatalf("recording: %v (record it with go test -update -run '%s' against the live server)", err, t.Name())
		}
		rp := NewReplayer(f)
		recorded := f.Recorded
		env := &collect.Env{Dialer: rp, Entropy: entropy.Seeded{Seed: f.Seed}, Now: func() time.Time { return recorded }}
		c.Check(t, env, Target{Addr: f.Target, Meta: f.Meta})
		if err := rp.Err(); err != nil {
			t.Error(err)
		}
	})
}
