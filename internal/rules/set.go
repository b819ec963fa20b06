package rules

import (
	"path"
	"slices"
)

// Set is a loaded, compiled rule set, sorted by ID.
type Set struct {
	rules []*Rule
	byID  map[string]*Rule
}

// Rules returns the rules sorted by ID.
func (s *Set) Rules() []*Rule { return s.rules }

// Get returns the rule with id.
func (s *Set) Get(id string) (*Rule, bool) {
	r, ok := s.byID[id]
	return r, ok
}

// IDs lists the rule IDs, sorted.
func (s *Set) IDs() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.ID
	}
	return out
}

// Has reports whether a rule with id exists.
func (s *Set) Has(id string) bool {
	_, ok := s.byID[id]
	return ok
}

// Filter returns the rules selected by only (when non-empty) and not in
// skip. Entries are IDs or patterns (`TLS-*`, `KEY-00?`). Entries that
// match no rule are returned as unknown, so the CLI can say so rather than
// silently scanning nothing.
func (s *Set) Filter(only, skip []string) (rules []*Rule, unknown []string) {
	matches := func(pattern, id string) bool {
		if pattern == id {
			return true
		}
		ok, err := path.Match(pattern, id)
		return err == nil && ok
	}
	for _, p := range append(append([]string{}, only...), skip...) {
		found := false
		for _, r := range s.rules {
			if matches(p, r.ID) {
				found = true
				break
			}
		}
		if !found && !slices.Contains(unknown, p) {
			unknown = append(unknown, p)
		}
	}
	for _, r := range s.rules {
		if len(only) > 0 && !slices.ContainsFunc(only, func(p string) bool { return matches(p, r.ID) }) {
			continue
		}
		if slices.ContainsFunc(skip, func(p string) bool { return matches(p, r.ID) }) {
			continue
		}
		rules = append(rules, r)
	}
	return rules, unknown
}

// CompileAll compiles every rule not compiled yet (built-in rules compile
// on first use) and returns every problem, in rule order.
func (s *Set) CompileAll() []string {
	var probs []string
	for _, r := range s.rules {
		for _, c := range r.Checks {
			if c == nil {
				continue
			}
			if c.ready() != nil {
				probs = append(probs, c.problems...)
				continue
			}
			for i := 0; i < outcomeCount; i++ {
				if _, err := c.outcomeProgram(i); err != nil {
					probs = append(probs, err.Error())
				}
			}
		}
	}
	return probs
}
