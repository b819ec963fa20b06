package wso2

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixturesDir is shared/fixtures/wso2 beside the repository (missing:
// testenv.Missing, a failure under RAMPART_EVAL=1).
func fixturesDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(testenv.WSO2Fixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(fixturesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// fileRules are the built-in rules with a file check.
func fileRules(t testing.TB) []*rules.Rule {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	var out []*rules.Rule
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			if c.Kind == rules.KindFile {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// scan collects a directory and judges the file rules as the scanner
// does for a directory target.
func scan(t testing.TB, dir string, decl target.Declared) (*facts.Facts, []finding.Finding) {
	t.Helper()
	return scanAt(t, dir, decl, rules.TestClock)
}

// scanNow judges at the real time: for files made during the test (a
// keystore keytool dated from the real clock).
func scanNow(t testing.TB, dir string) (*facts.Facts, []finding.Finding) {
	t.Helper()
	return scanAt(t, dir, target.Declared{}, time.Now())
}

func scanAt(t testing.TB, dir string, decl target.Declared, now time.Time) (*facts.Facts, []finding.Finding) {
	t.Helper()
	return scanRunning(t, dir, decl, now, 0)
}

// scanRunning is scanAt for a product found running on a machine with
// memMB of memory, as a host scan finds it (0: a directory on its own).
func scanRunning(t testing.TB, dir string, decl target.Declared, now time.Time, memMB int64) (*facts.Facts, []finding.Finding) {
	t.Helper()
	tg := target.Target{Name: filepath.Base(dir), Kind: target.Directory, Dir: dir, Decl: decl}
	f, err := New().Collect(context.Background(), tg, &collect.Env{})
	if err != nil {
		t.Fatalf("collect %s: %v", dir, err)
	}
	if memMB > 0 && f.Product.MachineMemoryMB == 0 {
		f.Product.MachineMemoryMB = memMB // what scan.running adds for a home found on a host
	}
	f.Target = tg.Facts()
	f.Target.Profiles = []string{f.Product.Profile}
	// Judged at a fixed time (the rule tests' clock), so expiry verdicts
	// do not rot.
	f.Scan = facts.DefaultScan(now)
	return f, rules.Judge(fileRules(t), rules.Input{Facts: f, Offers: map[string]bool{rules.KindFile: true}})
}

func render(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s %s\n", f.RuleID, f.Status, strings.ReplaceAll(f.Message, "\n", " "))
	}
	return b.String()
}

func statusOf(fs []finding.Finding) map[string]finding.Status {
	m := map[string]finding.Status{}
	for _, f := range fs {
		m[f.RuleID] = f.Status
	}
	return m
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/collect/wso2 -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/collect/wso2 -update to accept):\n%s", path, diffLines(string(want), got))
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "- %s\n+ %s\n", x, y)
		}
	}
	return out.String()
}

func TestGoldenFixtures(t *testing.T) {
	for _, name := range allFixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			_, fs := scan(t, fixtureDir(t, name), target.Declared{})
			checkGolden(t, name, render(fs))
		})
	}
}
