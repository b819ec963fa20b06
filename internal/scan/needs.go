package scan

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/rules"
)

// expansionNamespace reports the facts that lead to more targets (the
// product homes running on a host, the services open on a node); their
// collectors run whatever rules are selected.
func expansionNamespace(ns string) bool { return ns == facts.NSHost || ns == facts.NSPorts }

// ForRules keeps the collectors whose facts at least one of rs reads, so
// `--only TLS-004` does not wait on an HTTP or SSH probe it will not judge.
func ForRules(cs []collect.Collector, rs []*rules.Rule) []collect.Collector {
	needed := map[string]bool{}
	for _, r := range rs {
		for _, c := range r.Checks {
			for _, req := range c.Requires {
				ns, _, _ := strings.Cut(req, ".")
				needed[ns] = true
			}
		}
	}
	var out []collect.Collector
	for _, c := range cs {
		for _, ns := range c.Provides() {
			if needed[ns] || expansionNamespace(ns) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
