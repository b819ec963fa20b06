package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
)

// TestClock is the time rule tests run at unless a test sets scan.now, so
// expiry checks in tests do not rot.
var TestClock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestResult is the outcome of one inline rule test.
type TestResult struct {
	RuleID string `json:"rule"`
	Test   string `json:"test"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	// Message is the finding's message, or why the test could not run.
	Message string `json:"message"`
	OK      bool   `json:"ok"`
}

// RunTests runs the inline tests of rules, in order.
func RunTests(rules []*Rule) []TestResult {
	var out []TestResult
	for _, r := range rules {
		for i, t := range r.Tests {
			if t == nil {
				continue
			}
			out = append(out, runTest(r, i, t))
		}
	}
	return out
}

func runTest(r *Rule, i int, t *Test) TestResult {
	name := t.Name
	if name == "" {
		name = fmt.Sprintf("test %d", i+1)
	}
	res := TestResult{RuleID: r.ID, Test: name, File: r.File, Line: t.Line, Want: string(t.Status)}
	f, err := TestFacts(t)
	if err != nil {
		res.Got = "invalid"
		res.Message = err.Error()
		return res
	}
	offers := map[string]bool{}
	for _, k := range OffersFor(f) {
		offers[k] = true
	}
	if len(t.Offers) > 0 {
		offers = map[string]bool{}
		for _, k := range t.Offers {
			offers[k] = true
		}
	}
	got := Judge([]*Rule{r}, Input{Facts: f, Offers: offers})[0]
	res.Got = string(got.Status)
	res.Message = got.Message
	res.OK = got.Status == t.Status && strings.Contains(got.Message, t.Message)
	return res
}

// TestFacts decodes a test's facts strictly: a field the fact types do not
// have is an error, so tests cannot silently test nothing.
func TestFacts(t *Test) (*facts.Facts, error) {
	f := &facts.Facts{
		Target: facts.Target{Name: "test", Profiles: []string{}},
		Scan:   facts.DefaultScan(TestClock),
	}
	if t.Facts.Kind == 0 {
		return f, nil
	}
	var raw any
	if err := t.Facts.Decode(&raw); err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	js, err := json.Marshal(normalize(raw))
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	if f.Target.Kind == "" {
		f.Target.Kind = kindFor(f)
	}
	return f, nil
}

// normalize turns YAML's map[any]any (if any) into JSON-encodable maps and
// times into RFC 3339 strings.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return v
	}
}

// OffersFor returns the check kinds that facts offer by the namespaces
// they hold: product facts offer file checks, host facts host checks, and
// tls, http, ssh or ports facts probe checks.
func OffersFor(f *facts.Facts) []string {
	var out []string
	if f.Product != nil {
		out = append(out, KindFile)
	}
	if f.Host != nil {
		out = append(out, KindHost)
	}
	if f.TLS != nil || f.HTTP != nil || f.SSH != nil || f.Ports != nil {
		out = append(out, KindProbe)
	}
	return out
}

func kindFor(f *facts.Facts) string {
	switch {
	case f.Product != nil:
		return "directory"
	case f.Host != nil:
		return "host"
	case f.Ports != nil:
		return "node"
	case f.TLS != nil || f.HTTP != nil || f.SSH != nil:
		return "endpoint"
	}
	return "test"
}
