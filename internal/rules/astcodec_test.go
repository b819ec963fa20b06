package rules

import (
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"github.com/rampart-sec/rampart/internal/facts"
	"google.golang.org/protobuf/proto"

	builtin "github.com/rampart-sec/rampart/rules"
)

// TestASTCodecSameAsProto: for every expression of the built-in rules,
// the AST decodeAST reads back from encodeAST's bytes is the AST
// cel.CheckedExprToAst makes from the pruned CheckedExpr message (the form
// compiled files held before): same expression tree, IDs, types,
// references and source description.
func TestASTCodecSameAsProto(t *testing.T) {
	set, err := Load(Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	env, err := (&lazyEnv{}).get()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	kinds := map[celast.ExprKind]bool{}
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			if c.Kind == KindManual {
				continue
			}
			for _, src := range append([]string{c.When, c.SkipMessage, c.Assert, c.Message, c.PassMessage, c.Errors}, c.Evidence...) {
				if strings.TrimSpace(src) == "" || seen[src] {
					continue
				}
				seen[src] = true
				a, iss := env.Compile(src)
				if iss.Err() != nil {
					t.Fatalf("%s: %v", r.ID, iss.Err())
				}
				ce, err := cel.AstToCheckedExpr(a)
				if err != nil {
					t.Fatal(err)
				}
				prune(ce)
				want, err := celast.ToAST(ce)
				if err != nil {
					t.Fatal(err)
				}
				b, err := encodeAST(want)
				if err != nil {
					t.Fatalf("%s: encode %q: %v", r.ID, src, err)
				}
				got, err := decodeAST(string(b))
				if err != nil {
					t.Fatalf("%s: decode %q: %v", r.ID, src, err)
				}
				gotPB, err := celast.ToProto(got)
				if err != nil {
					t.Fatal(err)
				}
				wantPB, err := celast.ToProto(want)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(gotPB, wantPB) {
					t.Fatalf("%s: %q decodes to\n%v\nwant\n%v", r.ID, src, gotPB, wantPB)
				}
				for id, tw := range want.TypeMap() {
					if tg := got.TypeMap()[id]; tg == nil || !tg.IsExactType(tw) || tg.String() != tw.String() {
						t.Fatalf("%s: %q: type of %d is %v, want %v", r.ID, src, id, tg, tw)
					}
				}
				if got.SourceInfo().Description() != want.SourceInfo().Description() || got.SourceInfo().SyntaxVersion() != want.SourceInfo().SyntaxVersion() {
					t.Fatalf("%s: %q: source info differs", r.ID, src)
				}
				celast.PostOrderVisit(got.Expr(), celast.NewExprVisitor(func(e celast.Expr) { kinds[e.Kind()] = true }))
			}
		}
	}
	if len(seen) < 200 {
		t.Fatalf("only %d expressions", len(seen))
	}
	// The built-in rules use every kind of expression but maps and structs
	// (TestASTCodecKinds covers those).
	for _, k := range []celast.ExprKind{celast.LiteralKind, celast.IdentKind, celast.SelectKind, celast.CallKind, celast.ListKind, celast.ComprehensionKind} {
		if !kinds[k] {
			t.Errorf("no expression of kind %v was round-tripped", k)
		}
	}
}

// TestLiteralProgram: a checked expression that is a literal evaluates, as
// a literalProgram, to what the program planned from it does, for every
// literal of the built-in rules and of codecSeeds' kinds.
func TestLiteralProgram(t *testing.T) {
	set, err := Load(Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs := []string{`'x'`, `1`, `2u`, `-1.5`, `b"y"`, `null`, `true`}
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			if c.Kind != KindManual {
				srcs = append(srcs, c.When, c.SkipMessage, c.Assert, c.Message, c.PassMessage, c.Errors)
				srcs = append(srcs, c.Evidence...)
			}
		}
	}
	env, err := (&lazyEnv{}).get()
	if err != nil {
		t.Fatal(err)
	}
	literals := 0
	for _, src := range srcs {
		if strings.TrimSpace(src) == "" {
			continue
		}
		a, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		if a.NativeRep().Expr().Kind() != celast.LiteralKind {
			continue
		}
		literals++
		for _, trusted := range []bool{true, false} {
			prg, err := plan(env, a, trusted)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err1 := prg.Eval(activation(&facts.Facts{}))
			got, _, err2 := literalProgram{a.NativeRep().Expr().AsLiteral()}.Eval(activation(&facts.Facts{}))
			if err1 != nil || err2 != nil || got.Type() != want.Type() || got.Equal(want) != types.True {
				t.Fatalf("%q: literal %v, %v; planned %v, %v", src, got, err2, want, err1)
			}
		}
	}
	if literals < 20 {
		t.Fatalf("only %d literals", literals)
	}
}

// codecSeeds are expressions of every kind, optional entries and every
// literal among them.
var codecSeeds = []string{
	`tls.versions.exists(v, v in ["TLSv1.0", "TLSv1.1"])`,
	`{"a": 1, ?"c": optional.of(3)}[?"b"].orValue(2) == 2`,
	`[1, ?optional.none()].size() == 1`,
	`has(ssh.banner) && ssh.banner != "" ? 1u : uint(2.5)`,
	`b"x" == bytes("x") && null == null && 1.5 > -2.0`,
	`{"k": [1u, 2u]}.all(k, k != "") && cel.bind(x, -3, x < 0)`,
	`type(tls) == type(tls) && [tls.versions, []].size() == 2`,
}

// TestASTCodecKinds round-trips codecSeeds as TestASTCodecSameAsProto
// does the built-in rules.
func TestASTCodecKinds(t *testing.T) {
	env, err := (&lazyEnv{}).get()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range codecSeeds {
		a, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%q: %v", src, iss.Err())
		}
		b, err := encodeAST(a.NativeRep())
		if err != nil {
			t.Fatalf("encode %q: %v", src, err)
		}
		got, err := decodeAST(string(b))
		if err != nil {
			t.Fatalf("decode %q: %v", src, err)
		}
		gotPB, err := celast.ToProto(got)
		if err != nil {
			t.Fatal(err)
		}
		wantPB, err := celast.ToProto(a.NativeRep())
		if err != nil {
			t.Fatal(err)
		}
		wantPB.SourceInfo.Positions, wantPB.SourceInfo.LineOffsets = nil, nil
		if !proto.Equal(gotPB, wantPB) {
			t.Fatalf("%q decodes to\n%v\nwant\n%v", src, gotPB, wantPB)
		}
		// And it evaluates as the compiled source does.
		prg, err := planAST(env, got, true)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plan(env, a, true)
		if err != nil {
			t.Fatal(err)
		}
		act := activation(&facts.Facts{})
		v1, _, err1 := prg.Eval(act)
		v2, _, err2 := want.Eval(act)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && v1.Equal(v2) != types.True) {
			t.Fatalf("%q: %v, %v; want %v, %v", src, v1, err1, v2, err2)
		}
	}
}

// FuzzDecodeAST: damaged bytes are refused or decoded, never a panic or
// a runaway allocation.
func FuzzDecodeAST(f *testing.F) {
	env, err := (&lazyEnv{}).get()
	if err != nil {
		f.Fatal(err)
	}
	for _, src := range codecSeeds {
		a, iss := env.Compile(src)
		if iss.Err() != nil {
			f.Fatal(iss.Err())
		}
		b, err := encodeAST(a.NativeRep())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, b string) {
		a, err := decodeAST(b)
		if err == nil && a == nil {
			t.Fatal("no AST and no error")
		}
	})
}
