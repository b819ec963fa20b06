package rules

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types/ref"
	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
)

// A compiled file holds a rule source already read and its expressions
// already parsed and type-checked: reading some 220 KB of YAML and
// checking some 250 CEL expressions is most of what a one-target scan or
// `rampart rules list` spent on rules. WriteCompiled writes it (the
// built-in one, rules/compiled.bin, is kept fresh by a test that fails
// when it is not: `go test ./internal/rules -run TestCompiledFresh
// -update` rewrites it); Load uses it
// only when it was made from exactly the files at hand, and a checked
// expression only when it was checked against the same fact types and the
// same cel-go. Anything else and the files are read and compiled as
// before: a stale file costs time, never a different verdict.
type compiled struct {
	Format int
	// Files are the rule files it was made from, with their SHA-256.
	Files []compiledSource
	// Rules are the rules read from them, without their inline tests
	// (`rules test` and `rules lint` read the files).
	Rules []compiledRule
	// Env identifies the CEL environment the expressions were checked in.
	Env string
}

// The file is the compiled header (above, encodeHeader) with its length
// before it, then the checked expressions, each as the length and bytes of
// its source and the length and bytes of its checked AST (encodeAST), sorted by
// source: `rules list` reads the rules without touching some 600 KB of
// expressions, and a scan decodes only the expressions it compiles.

// compiledRule is a Rule without its inline tests (whose facts are YAML
// nodes the header would have to describe).
type compiledRule struct {
	ID          string
	Title       string
	Severity    finding.Severity
	Profiles    []string
	Sources     []string
	Description string
	Checks      []*Check
	Remediation string
	References  []string
	Domain      string
	File        string
	Line        int
}

type compiledSource struct {
	Name   string
	SHA256 [sha256.Size]byte
}

type compiledExpr struct {
	Src     string
	Checked []byte // a checked AST (encodeAST)
}

// compiledFormat 3: the header in encodeHeader's form (2: gob), the
// checked expressions in encodeAST's (1: CheckedExpr protobuf messages).
const compiledFormat = 3

// WriteCompiled reads and compiles src the strict way (as a custom rule
// directory is) and returns its compiled form.
func WriteCompiled(src Source) ([]byte, error) {
	strict := src
	strict.Name, strict.Trusted, strict.Compiled = "", false, ""
	set, err := Load(strict)
	if err != nil {
		return nil, err
	}
	env := &lazyEnv{}
	e, err := env.get()
	if err != nil {
		return nil, err
	}
	out := compiled{Format: compiledFormat, Env: env.fingerprint()}
	var exprs []compiledExpr
	if out.Files, err = sourceHashes(src); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range set.Rules() {
		out.Rules = append(out.Rules, compiledRule{ID: r.ID, Title: r.Title, Severity: r.Severity, Profiles: r.Profiles, Sources: r.Sources,
			Description: r.Description, Checks: r.Checks, Remediation: r.Remediation, References: r.References, Domain: r.Domain, File: r.File, Line: r.Line})
		for _, c := range r.Checks {
			if c.Kind == KindManual {
				continue
			}
			for _, x := range append([]string{c.When, c.SkipMessage, c.Assert, c.Message, c.PassMessage, c.Errors}, c.Evidence...) {
				if strings.TrimSpace(x) == "" || seen[x] {
					continue
				}
				seen[x] = true
				ast, iss := e.Compile(x)
				if iss.Err() != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, iss.Err())
				}
				ce, err := cel.AstToCheckedExpr(ast)
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, err)
				}
				prune(ce)
				pruned, err := celast.ToAST(ce)
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, err)
				}
				b, err := encodeAST(pruned)
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, err)
				}
				exprs = append(exprs, compiledExpr{Src: x, Checked: b})
			}
		}
	}
	sort.Slice(exprs, func(i, j int) bool { return exprs[i].Src < exprs[j].Src })
	head := encodeHeader(&out)
	file := binary.AppendUvarint(nil, uint64(len(head)))
	file = append(file, head...)
	for _, x := range exprs {
		file = binary.AppendUvarint(file, uint64(len(x.Src)))
		file = append(file, x.Src...)
		file = binary.AppendUvarint(file, uint64(len(x.Checked)))
		file = append(file, x.Checked...)
	}
	return file, nil
}

// prune drops what planning and evaluating a checked expression do not
// read, and decoding it would cost: the source positions and the macro
// calls as written (used to print errors of the compile, which is done,
// and to unparse), and of the types, all but those cel-go's planner reads
// (interpreter/planner.go, v0.33: the type of an identifier, of a field
// selection's operand and of an index's operand) and the result's.
// TestCompiledSameVerdicts runs every inline test on the pruned
// expressions; a cel-go that read more would fail it.
func prune(ce *exprpb.CheckedExpr) {
	if si := ce.GetSourceInfo(); si != nil {
		si.Positions, si.MacroCalls, si.LineOffsets = nil, nil, nil
	}
	keep := map[int64]bool{ce.GetExpr().GetId(): true}
	var walk func(e *exprpb.Expr)
	walk = func(e *exprpb.Expr) {
		if e == nil {
			return
		}
		switch k := e.GetExprKind().(type) {
		case *exprpb.Expr_IdentExpr:
			keep[e.GetId()] = true
		case *exprpb.Expr_SelectExpr:
			keep[k.SelectExpr.GetOperand().GetId()] = true
			walk(k.SelectExpr.GetOperand())
		case *exprpb.Expr_CallExpr:
			if fn := k.CallExpr.GetFunction(); (fn == "_[_]" || fn == "_[?_]") && len(k.CallExpr.GetArgs()) > 0 {
				keep[k.CallExpr.GetArgs()[0].GetId()] = true
			}
			walk(k.CallExpr.GetTarget())
			for _, a := range k.CallExpr.GetArgs() {
				walk(a)
			}
		case *exprpb.Expr_ListExpr:
			for _, a := range k.ListExpr.GetElements() {
				walk(a)
			}
		case *exprpb.Expr_StructExpr:
			for _, en := range k.StructExpr.GetEntries() {
				walk(en.GetMapKey())
				walk(en.GetValue())
			}
		case *exprpb.Expr_ComprehensionExpr:
			c := k.ComprehensionExpr
			for _, x := range []*exprpb.Expr{c.GetIterRange(), c.GetAccuInit(), c.GetLoopCondition(), c.GetLoopStep(), c.GetResult()} {
				walk(x)
			}
		}
	}
	walk(ce.GetExpr())
	for id := range ce.TypeMap {
		if !keep[id] {
			delete(ce.TypeMap, id)
		}
	}
}

// sourceHashes lists src's rule files with their SHA-256, sorted by name.
func sourceHashes(src Source) ([]compiledSource, error) {
	var names []string
	if len(src.Files) > 0 {
		names = append(names, src.Files...)
	} else if err := walkRuleFiles(src, &names); err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]compiledSource, 0, len(names))
	h := sha256.New()
	buf := make([]byte, 32<<10) // one buffer for every file
	for _, n := range names {
		f, err := src.FS.Open(n)
		if err != nil {
			return nil, err
		}
		h.Reset()
		_, err = io.CopyBuffer(h, f, buf)
		f.Close()
		if err != nil {
			return nil, err
		}
		cs := compiledSource{Name: n}
		h.Sum(cs.SHA256[:0])
		out = append(out, cs)
	}
	return out, nil
}

// loadCompiled returns a trusted src's rules from its compiled file, or
// false when there is none or it was not made from these files.
func loadCompiled(src Source) ([]*Rule, *checkedExprs, bool) {
	data := src.Compiled
	if data == "" || !src.Trusted {
		return nil, nil, false
	}
	n, w := uvarint(data)
	if w <= 0 || n > uint64(len(data)-w) {
		return nil, nil, false
	}
	c, err := decodeHeader(data[w : w+int(n)])
	if err != nil {
		return nil, nil, false
	}
	files, err := sourceHashes(src)
	if err != nil || !slices.Equal(files, c.Files) {
		return nil, nil, false
	}
	out := make([]*Rule, 0, len(c.Rules))
	for _, r := range c.Rules {
		if slices.Contains(r.Checks, nil) {
			return nil, nil, false
		}
		if src.Name != "" {
			r.File = path.Join(src.Name, r.File)
		}
		out = append(out, &Rule{ID: r.ID, Title: r.Title, Severity: r.Severity, Profiles: r.Profiles, Sources: r.Sources,
			Description: r.Description, Checks: r.Checks, Remediation: r.Remediation, References: r.References, Domain: r.Domain, File: r.File, Line: r.Line})
	}
	return out, &checkedExprs{env: c.Env, data: data[w+int(n):]}, true
}

// uvarint is binary.Uvarint of a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<(7*i), i + 1
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, 0
}

// checkedExprs are a compiled file's checked expressions, still encoded;
// index is built on first use (substrings of data: nothing is copied).
type checkedExprs struct {
	env   string
	data  string
	once  sync.Once
	index []compiledText
}

type compiledText struct{ src, checked string }

// find returns the checked form of src.
func (x *checkedExprs) find(src string) (string, bool) {
	x.once.Do(func() {
		rest := x.data
		next := func() (string, bool) {
			n, w := uvarint(rest)
			if w <= 0 || n > uint64(len(rest)-w) {
				return "", false
			}
			b := rest[w : w+int(n)]
			rest = rest[w+int(n):]
			return b, true
		}
		for len(rest) > 0 {
			s, ok1 := next()
			c, ok2 := next()
			if !ok1 || !ok2 {
				x.index = nil // a damaged file: compile from source
				return
			}
			x.index = append(x.index, compiledText{s, c})
		}
	})
	i, found := sort.Find(len(x.index), func(i int) int { return strings.Compare(src, x.index[i].src) })
	if !found {
		return "", false
	}
	return x.index[i].checked, true
}

// program plans src from its checked form, or says it has none usable.
func (x *checkedExprs) program(env *lazyEnv, src string, want *cel.Type, trusted bool) (cel.Program, bool) {
	if x == nil || x.env != env.fingerprint() {
		return nil, false
	}
	b, found := x.find(src)
	if !found {
		return nil, false
	}
	a, err := decodeAST(b)
	if err != nil {
		return nil, false
	}
	if out := a.GetType(a.Expr().ID()); want != nil && !out.IsExactType(want) && !out.IsExactType(cel.DynType) {
		return nil, false
	}
	if a.Expr().Kind() == celast.LiteralKind {
		// A constant message (`'the endpoint is not served over HTTPS'`):
		// its value is what the planned program would return.
		return literalProgram{a.Expr().AsLiteral()}, true
	}
	e, err := env.forChecked(a)
	if err != nil {
		return nil, false
	}
	prg, err := planAST(e, a, trusted)
	if err != nil {
		return nil, false
	}
	return prg, true
}

// literalProgram is a checked expression that is a literal: the value a
// program planned from it returns, without planning one (a fifth of the
// probe checks' messages are constant strings).
type literalProgram struct{ v ref.Val }

func (p literalProgram) Eval(any) (ref.Val, *cel.EvalDetails, error) { return p.v, nil, nil }

func (p literalProgram) ContextEval(context.Context, any) (ref.Val, *cel.EvalDetails, error) {
	return p.v, nil, nil
}

func (p literalProgram) ConcurrentEval(context.Context, any) <-chan cel.EvalResult {
	ch := make(chan cel.EvalResult, 1)
	ch <- cel.EvalResult{Val: p.v}
	close(ch)
	return ch
}

// fingerprint identifies the environment's declarations: the fact types,
// every field with its type and its name in CEL. (A cel-go upgrade that
// checks an expression differently changes the compiled file its test
// regenerates, so the test catches that.)
func (l *lazyEnv) fingerprint() string {
	l.fpOnce.Do(func() { l.fp = envFingerprint() })
	return l.fp
}

// envFingerprint computes lazyEnv.fingerprint: the SHA-256 of, for each
// namespace, its name and a colon, then each struct type its type leads
// to, first seen first, as "TYPE{" then "NAME TYPE \"JSON-TAG\";" a field,
// then "}". The text is built in one buffer and hashed once (through fmt,
// one small write at a time, it cost a scan's first judgement about a
// tenth of its instructions).
func envFingerprint() string {
	buf := make([]byte, 0, 32<<10)
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			if t.Kind() == reflect.Map {
				walk(t.Key())
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		buf = append(buf, t.String()...)
		buf = append(buf, '{')
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			buf = append(buf, f.Name...)
			buf = append(buf, ' ')
			buf = append(buf, f.Type.String()...)
			buf = append(buf, ' ')
			buf = strconv.AppendQuote(buf, f.Tag.Get("json"))
			buf = append(buf, ';')
			walk(f.Type)
		}
		buf = append(buf, '}')
	}
	for _, ns := range facts.AllNamespaces() {
		buf = append(buf, ns.Name...)
		buf = append(buf, ':')
		walk(ns.Type)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}
