package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testOnlyModules are (prefixes of) modules rampart's tests use and its
// binary must not carry.
var testOnlyModules = map[string]string{
	"github.com/chromedp/":                   "drive a browser in the dashboard's end-to-end tests",
	"github.com/zitadel/":                    "are the OpenID Connect provider the sign-in tests run",
	"github.com/santhosh-tekuri/jsonschema/": "validates reports against schema/ in tests",
}

// binaryDeps lists the packages linked into cmd/rampart, each with its
// module ("" for the standard library).
func binaryDeps(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}", "./cmd/rampart")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/rampart: %v", err)
	}
	deps := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, mod, _ := strings.Cut(line, "\t")
		deps[pkg] = mod
	}
	if len(deps) < 100 || deps[module+"/internal/cli"] != module {
		t.Fatalf("go list found %d packages, without internal/cli: is the listing broken?", len(deps))
	}
	return deps
}

// TestBinaryLeavesOutTestCode: the rampart binary links no test-only
// module (browser drivers, the OpenID Connect provider, schema
// validators), no test helper package of its own (bustest, zonetest,
// oidctest, testenv, ...) and not package testing.
func TestBinaryLeavesOutTestCode(t *testing.T) {
	for pkg, mod := range binaryDeps(t) {
		for prefix, why := range testOnlyModules {
			if strings.HasPrefix(mod, prefix) {
				t.Errorf("cmd/rampart links %s (module %s: %s %s)", pkg, mod, prefix, why)
			}
		}
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") || pkg == "net/http/httptest" {
			t.Errorf("cmd/rampart links %s", pkg)
		}
		if mod == module {
			if name := pkg[strings.LastIndexByte(pkg, '/')+1:]; strings.HasSuffix(name, "test") || strings.HasPrefix(name, "test") {
				t.Errorf("cmd/rampart links the test helper package %s", pkg)
			}
		}
	}
}

// initExempt are packages still doing work at initialisation, and why.
var initExempt = map[string]string{
	"internal/collect/tlsprobe":  "network layer being redesigned (issue 14, items 3-6)",
	"internal/collect/sshprobe":  "network layer being redesigned (issue 14, items 3-6)",
	"internal/collect/httpprobe": "network layer being redesigned (issue 14, items 3-6)",
	"internal/collect/portscan":  "network layer being redesigned (issue 14, items 3-6)",
	"internal/tlswire":           "network layer being redesigned (issue 14, items 3-6)",
}

// initAllowed are the calls a package-level variable may be initialised
// with: sentinel errors and constant times, which allocate a few bytes.
var initAllowed = map[string]bool{"errors.New": true, "netfail.New": true, "time.Date": true}

// TestNoWorkAtInit: Go initialises every package linked into the binary
// before main runs, so `rampart version` pays for every package-level
// regular expression, template, map and table of every command. rampart's
// own packages build those where they are used: no init function, and no
// package-level variable initialised by a call or a map literal.
func TestNoWorkAtInit(t *testing.T) {
	root := repoRoot(t)
	var checked int
	for pkg, mod := range binaryDeps(t) {
		if mod != module || pkg == module {
			continue
		}
		rel := strings.TrimPrefix(pkg, module+"/")
		exempt := false
		for p := range initExempt {
			exempt = exempt || under(rel, p)
		}
		if exempt {
			continue
		}
		files, err := filepath.Glob(filepath.Join(root, rel, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Name.Name == "init" && d.Recv == nil {
						t.Errorf("%s: an init function; build what it builds where it is used", fset.Position(d.Pos()))
					}
				case *ast.GenDecl:
					if d.Tok != token.VAR {
						continue
					}
					for _, s := range d.Specs {
						for _, v := range s.(*ast.ValueSpec).Values {
							if what := initWork(v); what != "" {
								t.Errorf("%s: package-level variable initialised by %s; build it where it is used (a function, a switch)", fset.Position(v.Pos()), what)
							}
						}
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d files checked; is the walk broken?", checked)
	}
}

// initWork names the work an initialiser does at start-up, "" for none.
func initWork(e ast.Expr) string {
	what := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if what != "" {
			return false
		}
		switch x := n.(type) {
		case *ast.FuncLit:
			return false // a function value runs later, if ever
		case *ast.CompositeLit:
			if _, ok := x.Type.(*ast.MapType); ok {
				what = "a map literal"
			}
		case *ast.CallExpr:
			switch fun := x.Fun.(type) {
			case *ast.SelectorExpr:
				if id, ok := fun.X.(*ast.Ident); ok && initAllowed[id.Name+"."+fun.Sel.Name] {
					return true
				}
				what = "a call of " + exprString(fun)
			case *ast.Ident:
				if !predeclaredType(fun.Name) {
					what = "a call of " + fun.Name
				}
			case *ast.FuncLit:
				what = "a function run at start-up"
			}
		}
		return true
	})
	return what
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "an expression"
}

func predeclaredType(name string) bool {
	switch name {
	case "string", "byte", "rune", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
		"uintptr", "float32", "float64", "bool", "any", "error":
		return true
	}
	return false
}
