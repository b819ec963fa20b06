package rules

import (
	"context"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// Prepare compiles, ahead of Judge, the checks that could be judged on a
// target offering the kinds of check in offers and whose collectors can
// provide the namespaces in provided (the target and scan namespaces
// always are): the conditions, assertions and evidence Judge would compile
// on its first use of each check. A scan calls it while its collectors
// wait on the network, so that judging the first target does not start
// with compiling (BenchmarkJudgeEndpoint: cold-compiled against
// prepared-compiled). It is safe to call concurrently with Judge (each
// expression compiles once) and stops early when ctx ends.
func Prepare(ctx context.Context, rules []*Rule, offers map[string]bool, provided []string) {
	have := map[string]bool{}
	for _, ns := range provided {
		have[ns] = true
	}
	for _, n := range facts.AllNamespaces() {
		if n.Always {
			have[n.Name] = true
		}
	}
	for _, r := range rules {
		for _, c := range r.Checks {
			if ctx.Err() != nil {
				return
			}
			if c.Kind == KindManual || !offers[c.Kind] || !coveredBy(c.Requires, have) {
				continue
			}
			// The messages compile when an outcome needs them: compiling
			// all of them ahead costs more CPU than judging saves
			// (measured with whole scans on a loaded 2-core machine; again
			// once the checked expressions were read straight into CEL's
			// AST: tls://127.0.0.1:9443, 40 interleaved runs at load 7.6,
			// CPU median 31.9 -> 34.2 ms, wall 36.6 -> 38.5 ms).
			if c.env != nil {
				c.env.setScope(func(ns string) bool { return have[ns] })
			}
			_ = c.ready() // a failure is Judge's to report
		}
	}
}

// coveredBy reports whether every namespace the requirements name is in
// have.
func coveredBy(requires []string, have map[string]bool) bool {
	for _, req := range requires {
		ns, _, _ := strings.Cut(req, ".")
		if !have[ns] {
			return false
		}
	}
	return true
}
