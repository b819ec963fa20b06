package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
)

// validID reports whether id has the shape of a rule ID: a family of 2 to
// 10 capitals and digits starting with a capital, a dash, and a number of 3
// or 4 digits (TLS-004).
func validID(id string) bool {
	family, number, ok := strings.Cut(id, "-")
	if !ok || len(family) < 2 || len(family) > 10 || len(number) < 3 || len(number) > 4 {
		return false
	}
	for i := 0; i < len(family); i++ {
		c := family[i]
		if !(c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	for i := 0; i < len(number); i++ {
		if number[i] < '0' || number[i] > '9' {
			return false
		}
	}
	return true
}

// validate reports structural problems that make a rule unusable. Style
// problems (missing tests, thin remediation) are the linter's business.
func validate(r *Rule) []string {
	var p []string
	at := fmt.Sprintf("%s:%d: rule %s", r.File, r.Line, r.ID)
	if r.ID == "" {
		return []string{fmt.Sprintf("%s:%d: rule without id", r.File, r.Line)}
	}
	if !validID(r.ID) {
		p = append(p, fmt.Sprintf("%s: id must look like ABC-123", at))
	}
	if strings.TrimSpace(r.Title) == "" {
		p = append(p, at+": missing title")
	}
	if r.Severity < finding.Info || r.Severity > finding.Critical {
		p = append(p, at+": missing or invalid severity (info, low, medium, high, critical)")
	}
	for _, pr := range r.Profiles {
		if !slices.Contains(Profiles(), pr) {
			p = append(p, fmt.Sprintf("%s: unknown profile %q (want one of %s)", at, pr, strings.Join(Profiles(), ", ")))
		}
	}
	if len(r.Checks) == 0 {
		p = append(p, at+": no checks")
	}
	for i, c := range r.Checks {
		cat := fmt.Sprintf("%s check %d", at, i+1)
		if c == nil {
			p = append(p, cat+": empty")
			continue
		}
		if !slices.Contains(Kinds(), c.Kind) {
			p = append(p, fmt.Sprintf("%s: unknown kind %q (want file, host, probe or manual)", cat, c.Kind))
			continue
		}
		if c.Kind == KindManual {
			if c.Assert != "" || c.When != "" || len(c.Requires) > 0 {
				p = append(p, cat+": a manual check has only a message")
			}
			if strings.TrimSpace(c.Message) == "" {
				p = append(p, cat+": a manual check needs a message saying what to attest")
			}
			continue
		}
		if strings.TrimSpace(c.Assert) == "" {
			p = append(p, cat+": missing assert")
		}
		if len(c.Requires) == 0 {
			p = append(p, cat+": requires names no fact namespace")
		}
		// Which namespaces a check of this kind may require, besides
		// target and scan, which every check may read: what each
		// namespace's NamespaceSpec says.
		allowed := facts.ForCheck(c.Kind)
		for _, req := range c.Requires {
			ns, _, _ := strings.Cut(req, ".")
			if !slices.Contains(allowed, ns) {
				p = append(p, fmt.Sprintf("%s: a %s check cannot require %q (allowed: %s)", cat, c.Kind, req, strings.Join(allowed, ", ")))
			}
		}
	}
	for i, t := range r.Tests {
		if t == nil {
			p = append(p, fmt.Sprintf("%s test %d: empty", at, i+1))
			continue
		}
		if _, err := finding.ParseStatus(string(t.Status)); err != nil {
			p = append(p, fmt.Sprintf("%s:%d: rule %s test %q: %v", r.File, t.Line, r.ID, t.Name, err))
		}
		for _, o := range t.Offers {
			if !slices.Contains(Kinds(), o) {
				p = append(p, fmt.Sprintf("%s:%d: rule %s test %q: unknown kind %q in offers", r.File, t.Line, r.ID, t.Name, o))
			}
		}
	}
	return p
}
