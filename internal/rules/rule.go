// Package rules loads rule files, compiles their CEL expressions once, and
// judges facts with them. Rules are data (YAML): each has a stable ID, the
// checks that can decide it (file, host, probe, manual), CEL expressions
// over facts, a remediation and inline tests. This package does no I/O
// beyond reading the rule files it is given; judging is a pure function of
// facts.
package rules

import (
	"sync"

	"cel.dev/cel-go/cel"
	"github.com/rampart-sec/rampart/internal/finding"
	"go.yaml.in/yaml/v3"
)

// Check kinds: where a check's evidence comes from.
const (
	KindFile   = "file"
	KindHost   = "host"
	KindProbe  = "probe"
	KindManual = "manual"
)

// Kinds lists the check kinds in a stable order.
func Kinds() []string { return []string{KindFile, KindHost, KindProbe, KindManual} }

// Profiles lists the product profiles a rule may name.
func Profiles() []string {
	return []string{"wso2-is", "wso2-apim", "wso2-mi", "webhook-relay", "linux-host"}
}

// File is one rule file: a domain and its rules.
type File struct {
	Domain string  `yaml:"domain"`
	Title  string  `yaml:"title"`
	Rules  []*Rule `yaml:"rules"`
}

// Rule is one guideline with a stable ID.
type Rule struct {
	ID       string           `yaml:"id" json:"id"`
	Title    string           `yaml:"title" json:"title"`
	Severity finding.Severity `yaml:"severity" json:"severity"`
	// Profiles the rule applies to; empty means every profile.
	Profiles []string `yaml:"profiles" json:"profiles"`
	// Sources are the seed documents the guideline comes from.
	Sources     []string `yaml:"sources" json:"sources"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Checks      []*Check `yaml:"checks" json:"checks"`
	Remediation string   `yaml:"remediation" json:"remediation"`
	References  []string `yaml:"references" json:"references"`
	Tests       []*Test  `yaml:"tests" json:"-"`

	// Domain and File are set by the loader; Line is the rule's line.
	Domain string `yaml:"-" json:"domain"`
	File   string `yaml:"-" json:"file"`
	Line   int    `yaml:"-" json:"line"`
}

// Check is one way of deciding a rule from one kind of evidence.
type Check struct {
	Kind string `yaml:"kind" json:"kind"`
	// Requires names the fact namespaces or sub-paths the check reads
	// ("tls", "product.jvm"). When one is absent the check does not apply;
	// when one failed the check ends in error.
	Requires []string `yaml:"requires" json:"requires,omitempty"`
	// When (CEL, bool): false means the check does not apply.
	When string `yaml:"when" json:"when,omitempty"`
	// SkipMessage (CEL, string) explains why the check does not apply when
	// When is false ("login attempt not made: run with --intrusive").
	SkipMessage string `yaml:"skip_message" json:"skip_message,omitempty"`
	// Assert (CEL, bool): true means pass.
	Assert string `yaml:"assert" json:"assert,omitempty"`
	// Message (CEL, string) explains a failure (or, for manual checks,
	// what must be attested).
	Message string `yaml:"message" json:"message,omitempty"`
	// PassMessage (CEL, string) optionally explains a pass.
	PassMessage string `yaml:"pass_message" json:"pass_message,omitempty"`
	// Evidence (CEL, any) are the facts to show; lists give one item each.
	Evidence []string `yaml:"evidence" json:"evidence,omitempty"`
	// Errors (CEL, list of strings): reasons the check could not fully
	// tell (a keystore that would not open). When non-empty and the
	// assertion holds, the check ends in error instead of pass.
	Errors string `yaml:"errors" json:"errors,omitempty"`
	// Partial: a pass of this check does not settle the rule; a manual
	// check must still be attested.
	Partial bool `yaml:"partial" json:"partial,omitempty"`

	prog programs
	// lines are where the expressions are written in the rule file.
	lines exprLines
	// Compilation state (see ready).
	env        *lazyEnv
	checked    *checkedExprs // already checked expressions, when loaded from a compiled file
	trusted    bool
	file       string
	ruleLine   int
	ruleID     string
	index      int
	once       sync.Once
	problems   []string
	compileErr error
}

// Test is an inline rule test: facts in, status out.
type Test struct {
	Name string `yaml:"name"`
	// Facts are decoded into facts.Facts strictly (unknown fields fail).
	Facts yaml.Node `yaml:"facts"`
	// Offers overrides the check kinds the test target offers; by default
	// they follow from the namespaces present in Facts.
	Offers []string       `yaml:"offers"`
	Status finding.Status `yaml:"status"`
	// Message, when set, must be a substring of the finding's message.
	Message string `yaml:"message"`
	Line    int    `yaml:"-"`
}

// programs are a check's compiled expressions.
type programs struct {
	when, assert cel.Program
	evidence     []cel.Program
	// outcomes are skip_message, message, pass_message and errors (see
	// outcomeProgram); lazy: compiled on first use.
	outcomes [outcomeCount]struct {
		once sync.Once
		prg  cel.Program
		err  error
	}
	lazy bool
	// skipFallback explains a false `when` when the rule gives no
	// skip_message; built once at load.
	skipFallback string
}

// Automated reports whether the rule has a check that is not manual.
func (r *Rule) Automated() bool {
	for _, c := range r.Checks {
		if c.Kind != KindManual {
			return true
		}
	}
	return false
}

// Kinds lists the rule's check kinds in declaration order, without repeats.
func (r *Rule) Kinds() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range r.Checks {
		if !seen[c.Kind] {
			seen[c.Kind] = true
			out = append(out, c.Kind)
		}
	}
	return out
}
