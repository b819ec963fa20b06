package rules

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
)

// Input is one target's facts and the kinds of check its kind offers: a
// product directory offers file checks, a host host checks, an endpoint
// probe checks. Manual checks apply everywhere.
type Input struct {
	Facts  *facts.Facts
	Offers map[string]bool
}

// Judge decides every rule in rules for one target. It does no I/O and
// never panics on odd facts: an expression that fails to evaluate makes
// that check end in error.
func Judge(rules []*Rule, in Input) []finding.Finding {
	act := activation(in.Facts)
	out := make([]finding.Finding, 0, len(rules))
	for _, r := range rules {
		out = append(out, judgeRule(r, in, act))
	}
	return out
}

// checkResult is the outcome of one check.
type checkResult struct {
	kind     string
	status   finding.Status
	message  string
	partial  bool
	evidence []finding.Evidence
	// notOffered: the target has no evidence of this check's kind at all.
	notOffered bool
}

func judgeRule(r *Rule, in Input, act interpreter.Activation) finding.Finding {
	f := finding.Finding{
		RuleID:      r.ID,
		Title:       r.Title,
		Target:      in.Facts.Target.Name,
		Severity:    r.Severity,
		Domain:      r.Domain,
		Remediation: strings.TrimSpace(r.Remediation),
		References:  nonNil(r.References),
		Checks:      []string{},
		Evidence:    []finding.Evidence{},
		Fingerprint: finding.Fingerprint(identity(in.Facts.Target), r.ID, ""),
	}
	if reason, ok := profileMismatch(r, in.Facts.Target); !ok {
		f.Status = finding.NotApplicable
		f.Message = reason
		return f
	}
	results := make([]checkResult, 0, len(r.Checks))
	for _, c := range r.Checks {
		if c.Kind == KindManual && !manualApplies(r, in) {
			results = append(results, checkResult{kind: c.Kind, status: finding.NotApplicable, notOffered: true,
				message: fmt.Sprintf("%s offers no %s evidence", kindPhrase(in.Facts.Target.Kind), strings.Join(automatedKinds(r), " or "))})
			continue
		}
		results = append(results, judgeCheck(c, in, act))
	}
	f.Status, f.Message = combine(r, results)
	for _, res := range results {
		if res.status == finding.NotApplicable {
			continue
		}
		f.Checks = append(f.Checks, res.kind)
		for _, e := range res.evidence {
			// One keystore file configured for several roles shows its
			// certificates once.
			if !slices.Contains(f.Evidence, e) {
				f.Evidence = append(f.Evidence, e)
			}
		}
	}
	return f
}

// identity is what a target's findings are fingerprinted by: its ID (a
// directory's absolute path, an endpoint's host:port), else its name.
func identity(t facts.Target) string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// manualApplies reports whether a rule's manual check concerns this
// target: always for a purely manual rule, otherwise only where the target
// offers one of the rule's automated kinds of evidence (an attestation about
// exposed paths belongs to endpoints, not to a product directory).
func manualApplies(r *Rule, in Input) bool {
	automated := false
	for _, c := range r.Checks {
		if c.Kind == KindManual {
			continue
		}
		automated = true
		if in.Offers[c.Kind] {
			return true
		}
	}
	return !automated
}

// kindPhrase names a kind of target for messages.
func kindPhrase(kind string) string {
	switch kind {
	case "directory":
		return "a product directory"
	case "endpoint":
		return "an endpoint"
	case "host":
		return "a host"
	case "node":
		return "a node"
	case "":
		return "this target"
	}
	return "a " + kind + " target"
}

func automatedKinds(r *Rule) []string {
	var out []string
	for _, k := range r.Kinds() {
		if k != KindManual {
			out = append(out, k)
		}
	}
	return out
}

// profileMismatch says why r does not apply to a target of these profiles.
// A target whose profile is unknown is judged by every rule.
func profileMismatch(r *Rule, t facts.Target) (string, bool) {
	if len(r.Profiles) == 0 || len(t.Profiles) == 0 {
		return "", true
	}
	for _, p := range t.Profiles {
		if slices.Contains(r.Profiles, p) {
			return "", true
		}
	}
	return fmt.Sprintf("applies to %s; target is %s", strings.Join(r.Profiles, ", "), strings.Join(t.Profiles, ", ")), false
}

func judgeCheck(c *Check, in Input, act interpreter.Activation) checkResult {
	res := checkResult{kind: c.Kind, partial: c.Partial}
	if c.Kind == KindManual {
		res.status = finding.Manual
		res.message = strings.TrimSpace(c.Message)
		return res
	}
	if !in.Offers[c.Kind] {
		res.status = finding.NotApplicable
		res.notOffered = true
		res.message = fmt.Sprintf("%s offers no %s evidence", kindPhrase(in.Facts.Target.Kind), c.Kind)
		return res
	}
	// Requirements first: a check whose facts are absent (an SSH check on
	// an HTTPS endpoint) is not compiled at all.
	if st, msg := requirements(c, in.Facts); st != "" {
		res.status, res.message = st, msg
		return res
	}
	if c.env != nil {
		// The programs are planned in an environment of the namespaces
		// this target has (lazyEnv.forChecked), unless an earlier target
		// or Prepare chose.
		c.env.setScope(in.Facts.Present)
	}
	if err := c.ready(); err != nil {
		return errorResult(res, "compile", err)
	}
	if c.prog.when != nil {
		ok, err := evalBool(c.prog.when, act)
		if err != nil {
			return errorResult(res, "when", err)
		}
		if !ok {
			res.status = finding.NotApplicable
			res.message = evalOutcome(c, outcomeSkipMessage, act, c.prog.skipFallback)
			return res
		}
	}
	pass, err := evalBool(c.prog.assert, act)
	if err != nil {
		return errorResult(res, "assert", err)
	}
	limit := maxEvidenceItems
	if pass {
		limit = passEvidenceItems
	}
	res.evidence = evidence(c, act, limit)
	switch {
	case !pass:
		res.status = finding.Fail
		res.message = evalOutcome(c, outcomeMessage, act, "")
	default:
		errs, err := c.outcomeProgram(outcomeErrors)
		if err != nil {
			return errorResult(res, "compile", err)
		}
		if errs != nil {
			reasons, err := evalStrings(errs, act)
			if err != nil {
				return errorResult(res, "errors", err)
			}
			if len(reasons) > 0 {
				res.status = finding.Error
				res.message = strings.Join(reasons, "; ")
				return res
			}
		}
		res.status = finding.Pass
		res.message = evalOutcome(c, outcomePassMessage, act, "")
	}
	return res
}

// requirements checks the namespaces a check needs: any absent one makes
// it not applicable; any failed or unavailable one makes it an error.
func requirements(c *Check, f *facts.Facts) (finding.Status, string) {
	var errs []string
	for _, req := range c.Requires {
		ns, _, _ := strings.Cut(req, ".")
		st, known := f.Lookup(req)
		switch {
		case known && st.State == facts.Absent:
			return finding.NotApplicable, absentMessage(req, st.Reason)
		case known && st.State == facts.Failed:
			errs = append(errs, req+": "+st.Reason)
		case known && st.State == facts.Unavailable:
			msg := req + ": collector not available"
			if st.Reason != "" {
				msg += " (" + st.Reason + ")"
			}
			errs = append(errs, msg)
		case !f.Present(ns):
			return finding.NotApplicable, absentMessage(req, "")
		}
	}
	if len(errs) > 0 {
		return finding.Error, strings.Join(errs, "; ")
	}
	return "", ""
}

func absentMessage(req, reason string) string {
	if reason != "" {
		return "no " + req + " facts: " + reason
	}
	return "no " + req + " facts for this target"
}

func errorResult(res checkResult, field string, err error) checkResult {
	res.status = finding.Error
	res.message = fmt.Sprintf("rule %s could not be evaluated: %v", field, err)
	return res
}

// combine decides a rule from its checks: any failure fails it; otherwise
// any error makes it an error; otherwise a (non-partial) pass passes it;
// otherwise a manual check makes it manual; otherwise it does not apply.
func combine(r *Rule, results []checkResult) (finding.Status, string) {
	pick := func(st finding.Status, partial *bool) []checkResult {
		var out []checkResult
		for _, res := range results {
			if res.status == st && (partial == nil || res.partial == *partial) {
				out = append(out, res)
			}
		}
		return out
	}
	full := false
	if fails := pick(finding.Fail, nil); len(fails) > 0 {
		return finding.Fail, joinMessages(fails, r.Title)
	}
	if errs := pick(finding.Error, nil); len(errs) > 0 {
		return finding.Error, joinMessages(errs, "could not be determined")
	}
	if passes := pick(finding.Pass, &full); len(passes) > 0 {
		return finding.Pass, joinMessages(passes, r.Title)
	}
	if manual := pick(finding.Manual, nil); len(manual) > 0 {
		return finding.Manual, joinMessages(manual, "needs an attestation")
	}
	if passes := pick(finding.Pass, nil); len(passes) > 0 {
		return finding.Pass, joinMessages(passes, r.Title)
	}
	na := pick(finding.NotApplicable, nil)
	if len(na) == 0 {
		return finding.NotApplicable, "no check applies to this target"
	}
	// When a check that could run says why it does not apply, that is the
	// reason worth reading; "no probe evidence here" for the others is noise.
	var specific []checkResult
	for _, res := range na {
		if !res.notOffered {
			specific = append(specific, res)
		}
	}
	if len(specific) > 0 {
		na = specific
	}
	return finding.NotApplicable, joinMessages(na, "does not apply to this target")
}

// joinMessages joins the checks' messages, naming the kind of check when
// more than one spoke.
func joinMessages(rs []checkResult, fallback string) string {
	var parts []string
	for _, r := range rs {
		m := r.message
		if m == "" {
			m = fallback
		}
		if len(rs) > 1 {
			m = r.kind + ": " + m
		}
		if !slices.Contains(parts, m) {
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, "; ")
}

func evalBool(p cel.Program, act interpreter.Activation) (bool, error) {
	v, _, err := p.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("got %s, want bool", v.Type())
	}
	return bool(b), nil
}

// evalOutcome evaluates one of a check's messages (see evalString).
func evalOutcome(c *Check, i int, act interpreter.Activation, fallback string) string {
	p, err := c.outcomeProgram(i)
	if err != nil {
		return fmt.Sprintf("%s(message could not be compiled: %v)", prefix(fallback), err)
	}
	return evalString(p, act, fallback)
}

// evalString evaluates a message; a message that fails to evaluate must
// not hide the verdict, so the error becomes part of the text.
func evalString(p cel.Program, act interpreter.Activation, fallback string) string {
	if p == nil {
		return fallback
	}
	v, _, err := p.Eval(act)
	if err != nil {
		return fmt.Sprintf("%s(message could not be evaluated: %v)", prefix(fallback), oneLine(err.Error()))
	}
	if s, ok := v.(types.String); ok {
		return string(s)
	}
	return fmt.Sprint(v.Value())
}

func prefix(s string) string {
	if s == "" {
		return ""
	}
	return s + " "
}

func evalStrings(p cel.Program, act interpreter.Activation) ([]string, error) {
	v, _, err := p.Eval(act)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, item := range listItems(v) {
		if s, ok := item.(types.String); ok && s != "" {
			out = append(out, string(s))
		}
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
