package httpprobe

import (
	"testing"
	"time"
)

// The pacer widens by what the answers predict: a catalogue a server
// answers quickly stays on one worker, one whose answers would take the
// rest past the window on the workers there are gets more, up to max; one
// slow answer among the first few predicts nothing.
func TestPacerPrediction(t *testing.T) {
	for _, c := range []struct {
		name      string
		latencies []time.Duration
		want      int
	}{
		{"fast server", []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}, 1},
		{"one pause, then fast", []time.Duration{80 * time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}, 1},
		{"distant server", []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}, 5},
		{"a little slow", []time.Duration{12 * time.Millisecond, 12 * time.Millisecond, 12 * time.Millisecond, 12 * time.Millisecond}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			started := 0
			pc := &pacer{n: 40, max: 5}
			pc.start = func() { started++ }
			pc.grow()
			for _, l := range c.latencies {
				if _, ok := pc.take(); !ok {
					t.Fatal("no request left")
				}
				pc.finished(l)
			}
			if pc.workers != c.want || started != c.want {
				t.Errorf("%d workers (%d started), want %d", pc.workers, started, c.want)
			}
		})
	}
}

// No worker is added once every request is handed out (the group may be
// done waiting), however slow the last ones are.
func TestPacerNoWorkerAfterTheLast(t *testing.T) {
	pc := &pacer{n: 2, max: 5}
	started := 0
	pc.start = func() { started++ }
	pc.grow()
	for range 2 {
		if _, ok := pc.take(); !ok {
			t.Fatal("no request left")
		}
	}
	pc.slow()
	pc.finished(time.Hour)
	if _, ok := pc.take(); ok || started != 1 {
		t.Errorf("%d workers started after the last request was handed out, want 1", started)
	}
}
