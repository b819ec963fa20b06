package rules

import "slices"

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

// Has reports whether a rule with id exists.
func (s *Set) Has(id string) bool {
	_, ok := s.byID[id]
	return ok
}

// Filter returns the rules selected by only (when non-empty) and not in
// skip. IDs that name no rule are returned as unknown, so the CLI can say
// so rather than silently scanning nothing.
func (s *Set) Filter(only, skip []string) (rules []*Rule, unknown []string) {
	for _, id := range append(append([]string{}, only...), skip...) {
		if _, ok := s.byID[id]; !ok && !slices.Contains(unknown, id) {
			unknown = append(unknown, id)
		}
	}
	for _, r := range s.rules {
		if len(only) > 0 && !slices.Contains(only, r.ID) {
			continue
		}
		if slices.Contains(skip, r.ID) {
			continue
		}
		rules = append(rules, r)
	}
	return rules, unknown
}
