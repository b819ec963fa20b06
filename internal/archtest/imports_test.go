// Package archtest checks the architecture the package names promise:
// collectors never judge, rules never do I/O, renderers only render. It
// reads every package's imports with go/build and fails when one crosses
// a boundary.
package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/rampart-sec/rampart"

// forbidden maps a package (prefix) to the packages (prefixes) it must not
// import, with the reason.
var forbidden = []struct {
	pkg, must string
	why       string
}{
	{"internal/collect", "internal/rules", "collectors gather facts; judging is the rules' job"},
	{"internal/collect", "internal/report", "collectors do not render"},
	{"internal/collect", "internal/finding", "collectors produce facts, not findings"},
	{"internal/rules", "internal/collect", "rules judge facts and do no I/O"},
	{"internal/rules", "internal/report", "rules do not render"},
	{"internal/rules", "net", "rules do no I/O"},
	{"internal/rules", "net/http", "rules do no I/O"},
	{"internal/rules", "os/exec", "rules do no I/O"},
	{"internal/report", "internal/collect", "renderers only render"},
	{"internal/report", "internal/rules", "renderers only render"},
	{"internal/report", "internal/scan", "renderers only render"},
	{"internal/report", "net", "renderers only render"},
	{"internal/report", "os/exec", "renderers only render"},
	{"internal/finding", "internal/", "findings depend on the standard library only"},
	{"internal/facts", "internal/", "facts depend on the standard library only"},
	{"internal/target", "internal/collect", "targets say what to scan, not how"},
	{"internal/fix/render", "internal/collect", "fix renderers only render"},
	{"internal/fix/render", "os/exec", "fix renderers only render"},
	{"internal/fix/render", "net", "fix renderers only render"},
	{"internal/fix/wso2fix", "os/exec", "fix runs nothing on a product home: it plans edits"},
	{"internal/fix/wso2fix", "net", "fix plans from files; it connects nowhere"},
	{"internal/zone", "internal/collect", "zone judging reads observations and does no I/O"},
	{"internal/zone", "net", "zone judging does no I/O"},
	{"internal/zone", "os/exec", "zone judging does no I/O"},
	{"internal/zone", "internal/store", "zone judging does not store"},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(dir))
}

func TestPackageBoundaries(t *testing.T) {
	root := repoRoot(t)
	var checked int
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		checked++
		for _, imp := range pkg.Imports {
			local := strings.TrimPrefix(imp, module+"/")
			for _, f := range forbidden {
				if !under(rel, f.pkg) {
					continue
				}
				if f.must == "internal/" && strings.HasPrefix(local, "internal/") && !under(local, f.pkg) {
					t.Errorf("%s imports %s: %s", rel, imp, f.why)
					continue
				}
				if f.must != "internal/" && (imp == f.must || under(local, f.must) && strings.HasPrefix(imp, module)) {
					t.Errorf("%s imports %s: %s", rel, imp, f.why)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 8 {
		t.Fatalf("only %d packages checked; is the walk broken?", checked)
	}
}

func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}
