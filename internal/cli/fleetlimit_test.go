package cli

import (
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
)

// TestFleetHostLimit: a scan of more targets than run at once keeps each
// host at --per-host; a smaller scan, or an explicit --per-host-max,
// keeps the widening window.
func TestFleetHostLimit(t *testing.T) {
	for _, c := range []struct {
		targets int
		set     bool
		want    int
	}{{8, false, 16}, {9, false, 5}, {1000, false, 5}, {1000, true, 16}} {
		o := &collectOpts{concurrency: 8, perHost: 5, perHostMax: 16, perHostMaxSet: c.set}
		env := collect.Env{PerHost: 5, PerHostMax: 16}
		fleetHostLimit(&env, o, c.targets)
		if env.PerHostMax != c.want || env.PerHost != 5 {
			t.Errorf("%d targets, --per-host-max given %v: per host %d up to %d, want up to %d", c.targets, c.set, env.PerHost, env.PerHostMax, c.want)
		}
	}
}
