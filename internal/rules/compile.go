package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
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
		env, err := c.env.get()
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s:%d: rule %s check %d (%s): %v", c.file, c.ruleLine, c.ruleID, c.index, c.Kind, err))
			c.compileErr = err
			return
		}
		compile := func(field, src string, want *cel.Type) cel.Program {
			if strings.TrimSpace(src) == "" {
				return nil
			}
			if prg, ok := c.checked.program(c.env, env, src, want, c.trusted); ok {
				return prg
			}
			prg, err := compileExpr(env, src, want, c.trusted)
			if err != nil {
				c.problems = append(c.problems, c.problemAt(field, err))
			}
			return prg
		}
		c.prog.when = compile("when", c.When, cel.BoolType)
		c.prog.skipFallback = "condition not met: " + oneLine(c.When)
		c.prog.skipMessage = compile("skip_message", c.SkipMessage, cel.StringType)
		c.prog.assert = compile("assert", c.Assert, cel.BoolType)
		c.prog.message = compile("message", c.Message, cel.StringType)
		c.prog.passMessage = compile("pass_message", c.PassMessage, cel.StringType)
		c.prog.errors = compile("errors", c.Errors, cel.ListType(cel.StringType))
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
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if !trusted {
		opts = append(opts, cel.CostLimit(costLimit))
	}
	return env.Program(ast, opts...)
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
