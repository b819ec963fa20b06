package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// skipAllowed are the tests that may skip without going through testenv,
// by file and function, with the reason: none of them stands for a missing
// dependency.
var skipAllowed = map[string]string{
	"internal/tlswire/fuzz_test.go:TestWriteFuzzSeeds": "a seed generator run on request (TLSWIRE_WRITE_SEEDS=1), not a test",
	"internal/cli/pty_test.go:TestRampartProcess":      "the child process of the pty test, run by it (re-executed test binary)",
	"internal/coord/e2e/scale_test.go:TestZonesScale":  "a benchmark run on request by scripts/bench/zones.sh (RAMPART_BENCH_ZONES), not a test",
}

// TestTestsCannotLie: a test that did not run must not pass. Every skip
// for something missing (a tool, a server, the shared fixtures, root,
// -short) goes through internal/testenv, which fails instead under
// RAMPART_EVAL=1; no test waits a fixed time for something to happen
// (time.Sleep, a bare <-time.After): it waits on a channel, the injected
// clock, or at worst testenv.Poll for the condition itself. Checked in
// every _test.go file and every test helper package (a file importing
// "testing"), testenv itself excepted.
func TestTestsCannotLie(t *testing.T) {
	root := repoRoot(t)
	var checked int
	used := map[string]bool{}
	for _, dir := range []string{"internal", "cmd", "rules", "schema"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == filepath.Join(root, dir) {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, "internal/testenv/") {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(path, "_test.go") && !imports(f, "testing") {
				return nil
			}
			checked++
			for _, p := range lies(fset, f) {
				key := rel + ":" + p.fn
				if _, ok := skipAllowed[key]; ok && p.skip {
					used[key] = true
					continue
				}
				t.Errorf("%s:%d: %s", rel, p.line, p.what)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d test files checked: is the repository root right?", checked)
	}
	for key := range skipAllowed {
		if !used[key] {
			t.Errorf("skipAllowed lists %s, which no longer skips: remove it", key)
		}
	}
}

type lie struct {
	line int
	fn   string // enclosing top-level function
	what string
	skip bool
}

// lies finds the sleeps and raw skips of one file. Calls are recognised
// by their selector (t.Skip, b.Skipf, time.Sleep ...), whatever the
// receiver is called: a testing.TB passed under another name is found too.
func lies(fset *token.FileSet, f *ast.File) []lie {
	timePkg := importName(f, "time")
	testingPkg := importName(f, "testing")
	var out []lie
	for _, decl := range f.Decls {
		fn := ""
		if fd, ok := decl.(*ast.FuncDecl); ok {
			fn = fd.Name.Name
		}
		tbs := testingNames(decl, testingPkg)
		inSelect := map[ast.Stmt]bool{} // a select's cases receive, they do not sleep
		ast.Inspect(decl, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CommClause:
				inSelect[x.Comm] = true
			case *ast.ExprStmt:
				// <-time.After(d) as a statement is a sleep.
				if inSelect[x] {
					return true
				}
				if u, ok := x.X.(*ast.UnaryExpr); ok && u.Op == token.ARROW {
					if pkg, name, ok := selector(u.X); ok && pkg == timePkg && timePkg != "" && (name == "After" || name == "Tick") {
						out = append(out, lie{fset.Position(x.Pos()).Line, fn, "<-time." + name + " as a statement sleeps: wait on a channel, the injected clock or testenv.Poll", false})
					}
				}
			case *ast.CallExpr:
				pkg, name, ok := selector(x)
				if !ok {
					return true
				}
				switch {
				case pkg == timePkg && timePkg != "" && name == "Sleep":
					out = append(out, lie{fset.Position(x.Pos()).Line, fn, "time.Sleep in a test: synchronise with a channel or the injected clock (testenv.Poll for another process's state); a slow peer blocks on a channel or ticks", false})
				case pkg == testingPkg && testingPkg != "" && name == "Short":
					out = append(out, lie{fset.Position(x.Pos()).Line, fn, "testing.Short(): use testenv.Short, which RAMPART_EVAL=1 turns into a failure", true})
				case name == "Skip" || name == "Skipf" || name == "SkipNow":
					if name == "Skip" && !tbs[pkg] && !testingField(x) {
						return true // another type's Skip (an XML decoder's, cryptobyte.String's)
					}
					out = append(out, lie{fset.Position(x.Pos()).Line, fn, fmt.Sprintf("%s.%s: a skip for something missing goes through testenv.Missing (or testenv.Tool, Shared, Env, Root, Short), which fails under RAMPART_EVAL=1", pkg, name), true})
				}
			}
			return true
		})
	}
	return out
}

// testingNames are the names declared in decl with a testing type
// (*testing.T, *testing.B, *testing.F, testing.TB).
func testingNames(decl ast.Decl, testingPkg string) map[string]bool {
	names := map[string]bool{}
	if testingPkg == "" {
		return names
	}
	ast.Inspect(decl, func(n ast.Node) bool {
		field, ok := n.(*ast.Field)
		if !ok {
			return true
		}
		typ := field.Type
		if st, ok := typ.(*ast.StarExpr); ok {
			typ = st.X
		}
		if pkg, name, ok := selector(typ); ok && pkg == testingPkg && (name == "T" || name == "B" || name == "F" || name == "TB") {
			for _, id := range field.Names {
				names[id.Name] = true
			}
		}
		return true
	})
	return names
}

// testingField reports whether a call is on a struct field named like a
// testing.TB (p.t.Skip(...)).
func testingField(c *ast.CallExpr) bool {
	s, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	inner, ok := s.X.(*ast.SelectorExpr)
	return ok && (inner.Sel.Name == "t" || inner.Sel.Name == "tb" || inner.Sel.Name == "b")
}

// selector returns X and Sel of a call or expression of the form X.Sel(...).
func selector(e ast.Expr) (string, string, bool) {
	if c, ok := e.(*ast.CallExpr); ok {
		e = c.Fun
	}
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return "", "", false
	}
	id, ok := s.X.(*ast.Ident)
	if !ok {
		return "?", s.Sel.Name, true
	}
	return id.Name, s.Sel.Name, true
}

func imports(f *ast.File, path string) bool {
	return slices.ContainsFunc(f.Imports, func(s *ast.ImportSpec) bool {
		p, _ := strconv.Unquote(s.Path.Value)
		return p == path
	})
}

// importName is the name a file uses for an import path ("" when not
// imported).
func importName(f *ast.File, path string) string {
	for _, s := range f.Imports {
		if p, _ := strconv.Unquote(s.Path.Value); p == path {
			if s.Name != nil {
				return s.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}
