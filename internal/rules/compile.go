package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
)

// compileRule compiles and type-checks every expression of r, returning
// every problem rather than stopping at the first.
func compileRule(env *lazyEnv, r *Rule, trusted bool) []string {
	var probs []string
	for i, c := range r.Checks {
		if c == nil {
			continue
		}
		c.bind(env, r, i, trusted)
		if err := c.ready(); err != nil {
			probs = append(probs, c.problems...)
		}
	}
	return probs
}

// bind records what a check needs to compile itself later.
func (c *Check) bind(env *lazyEnv, r *Rule, i int, trusted bool) {
	c.env, c.trusted = env, trusted
	c.file, c.ruleLine, c.ruleID, c.index = r.File, r.Line, r.ID, i+1
}

// celLine finds the line of a CEL error inside its expression
// ("<input>:2:14: undeclared reference" is line 2).
func celLine(msg string) (int, bool) {
	const mark = "<input>:"
	for {
		i := strings.Index(msg, mark)
		if i < 0 {
			return 0, false
		}
		msg = msg[i+len(mark):]
		line, rest, ok := leadingNumber(msg)
		if !ok || !strings.HasPrefix(rest, ":") {
			continue
		}
		if _, _, ok := leadingNumber(rest[1:]); ok {
			return line, true
		}
	}
}

// leadingNumber reads the decimal digits s starts with.
func leadingNumber(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	n, err := strconv.Atoi(s[:i])
	return n, s[i:], err == nil
}

// problemAt says where a compile problem of field is: the file and the
// line of the expression inside the YAML (the rule's line when the
// expression's is unknown).
func (c *Check) problemAt(field string, err error) string {
	line := c.ruleLine
	if at, ok := c.lines[field]; ok && at.line > 0 {
		line = at.line
		if at.block {
			line++ // a block scalar's text starts under its indicator
		}
		if n, ok := celLine(err.Error()); ok && n > 1 && at.block {
			line += n - 1
		}
	}
	return fmt.Sprintf("%s:%d: rule %s check %d (%s) %s: %v", c.file, line, c.ruleID, c.index, c.Kind, field, err)
}

// compileField compiles one expression of the check (nil for none),
// from its checked form when the check has one.
func (c *Check) compileField(field, src string, want *cel.Type) (cel.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	// The same expression in several checks (`size(tls.chains) > 0 ||
	// !tls.anonymous_only` guards five TLS rules) is planned once per set:
	// a program is immutable and safe to share.
	key := programKey{src: src, trusted: c.trusted}
	if want != nil {
		key.want = want.String()
	}
	if prg, ok := c.env.programs.Load(key); ok {
		return prg.(cel.Program), nil
	}
	prg, ok := c.checked.program(c.env, src, want, c.trusted)
	if !ok {
		env, err := c.env.get()
		if err != nil {
			return nil, err
		}
		if prg, err = compileExpr(env, src, want, c.trusted); err != nil {
			return nil, err
		}
	}
	c.env.programs.Store(key, prg)
	return prg, nil
}

// programKey identifies a planned expression within a rule set.
type programKey struct {
	src, want string
	trusted   bool
}

// The expressions only some outcomes of a check need.
const (
	outcomeSkipMessage = iota
	outcomeMessage
	outcomePassMessage
	outcomeErrors
	outcomeCount
)

type outcomeField struct {
	name, src string
	want      *cel.Type
}

func outcomeFields(c *Check) [outcomeCount]outcomeField {
	return [outcomeCount]outcomeField{
		outcomeSkipMessage: {"skip_message", c.SkipMessage, cel.StringType},
		outcomeMessage:     {"message", c.Message, cel.StringType},
		outcomePassMessage: {"pass_message", c.PassMessage, cel.StringType},
		outcomeErrors:      {"errors", c.Errors, cel.ListType(cel.StringType)},
	}
}

// outcomeProgram is the program of one outcome expression (nil when the
// check has none), compiled on first use for a check from a compiled file.
// ready must have succeeded.
func (c *Check) outcomeProgram(i int) (cel.Program, error) {
	o := &c.prog.outcomes[i]
	if !c.prog.lazy {
		return o.prg, nil
	}
	o.once.Do(func() {
		f := outcomeFields(c)[i]
		if o.prg, o.err = c.compileField(f.name, f.src, f.want); o.err != nil {
			o.err = errors.New(c.problemAt(f.name, o.err))
		}
	})
	return o.prg, o.err
}

// ready compiles the check's expressions the first time it is called and
// returns the compile error, if any, every time. Built-in rules compile on
// first use: a scan of an endpoint never pays for the file and host checks
// it cannot judge, and `rampart rules list` compiles nothing. Their tests
// (and `rampart rules test`) compile every one.
func (c *Check) ready() error {
	c.once.Do(func() {
		if c.Kind == KindManual || c.env == nil {
			return // a manual check's message is plain text, not CEL
		}
		// A check from a compiled file plans its checked expressions in
		// the environment they need (lazyEnv.forChecked); the others
		// compile in the full one.
		if c.checked == nil {
			if _, err := c.env.get(); err != nil {
				c.problems = append(c.problems, fmt.Sprintf("%s:%d: rule %s check %d (%s): %v", c.file, c.ruleLine, c.ruleID, c.index, c.Kind, err))
				c.compileErr = err
				return
			}
		}
		compile := func(field, src string, want *cel.Type) cel.Program {
			prg, err := c.compileField(field, src, want)
			if err != nil {
				c.problems = append(c.problems, c.problemAt(field, err))
			}
			return prg
		}
		c.prog.when = compile("when", c.When, cel.BoolType)
		c.prog.skipFallback = "condition not met: " + oneLine(c.When)
		c.prog.assert = compile("assert", c.Assert, cel.BoolType)
		// A check from a compiled file is known to compile: the programs
		// only some outcomes need wait for those outcomes (outcome).
		if c.prog.lazy = c.checked != nil; !c.prog.lazy {
			for i, f := range outcomeFields(c) {
				c.prog.outcomes[i].prg = compile(f.name, f.src, f.want)
			}
		}
		for j, e := range c.Evidence {
			c.prog.evidence = append(c.prog.evidence, compile(fmt.Sprintf("evidence[%d]", j), e, nil))
		}
		if len(c.problems) > 0 {
			c.compileErr = errors.New(strings.Join(c.problems, "; "))
		}
	})
	return c.compileErr
}

func compileExpr(env *cel.Env, src string, want *cel.Type, trusted bool) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%s", oneLine(iss.Err().Error()))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("expression %q has type %s, want %s", src, ast.OutputType(), want)
	}
	prg, err := plan(env, ast, trusted)
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	return prg, nil
}

// plan turns a checked expression into a program; untrusted rules run
// under a cost limit.
func plan(env *cel.Env, ast *cel.Ast, trusted bool) (cel.Program, error) {
	return env.Program(ast, programOptions(trusted)...)
}

// planAST plans a checked AST read from a compiled file, as plan does.
func planAST(env *cel.Env, a *celast.AST, trusted bool) (cel.Program, error) {
	return env.PlanProgram(a, programOptions(trusted)...)
}

func programOptions(trusted bool) []cel.ProgramOption {
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if !trusted {
		opts = append(opts, cel.CostLimit(costLimit))
	}
	return opts
}

// oneLine folds CEL's multi-line error (message, source line, caret) into
// one line that still points at the column.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "|"))
		if l == "" || strings.Trim(l, ".^ ") == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, " | ")
}
