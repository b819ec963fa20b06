package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goroutineAllowed are the files of the collector packages that may start
// goroutines themselves, and why a panic there cannot escape.
var goroutineAllowed = map[string]string{
	"internal/collect/group.go":           "Group itself: recovers every panic of the goroutines it starts",
	"internal/collect/runner.go":          "each goroutine runs a collector through runOne, which recovers",
	"internal/collect/cmdexec/cmdexec.go": "only waits for a child process (exec.Cmd.Wait)",
}

// TestCollectorGoroutinesRecover: a panic in a goroutine ends the process
// unless that goroutine recovers it, so collectors (and the wire code they
// call) start goroutines only through collect.Group, which hands the panic
// back to the collector, where the runner turns it into failed facts.
// No go statement, no sync.WaitGroup, anywhere else.
func TestCollectorGoroutinesRecover(t *testing.T) {
	root := repoRoot(t)
	var checked int
	for _, dir := range []string{"internal/collect", "internal/tlswire"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if _, ok := goroutineAllowed[rel]; ok {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: a go statement; start it with collect.Group so a panic in it cannot end the scan", fset.Position(x.Pos()))
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "sync" && x.Sel.Name == "WaitGroup" {
						t.Errorf("%s: sync.WaitGroup; use collect.Group (its Go recovers panics)", fset.Position(x.Pos()))
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked: is the repository root right?", checked)
	}
}
