package wso2fix_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/render"
	"github.com/rampart-sec/rampart/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden diffs in testdata/golden")

var fixtures = []string{"apim-4.1.0", "apim-4.5.0", "is-5.11.0", "is-7.1.0", "is-7.3.0-docker-compose", "mi-4.1.0", "mi-4.3.0"}

// TestRescanEveryFixture is the proof by re-scan: for every shared
// fixture, a copy is fixed with the needed inputs and scanned again.
// Every rule the fix reported fixed passes; no rule that passed before
// fails or errors; a second fix changes nothing. The diff (with values
// that are random by design masked) is compared with a golden file;
// -update rewrites them.
func TestRescanEveryFixture(t *testing.T) {
	rs := loadRules(t)
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", name))
			before := scanDir(t, rs, dir, "")
			keys := &fixtest.Keys{}
			opt := options(keys)
			if name == "is-7.3.0-docker-compose" {
				// The sample mounts its keystores at run time: encrypt for
				// the certificate of that keystore's key entry.
				opt.VaultCert = vaultCert(t, keys)
			}
			plan := planDir(t, dir, before, opt)
			if f := plan.Failed(); len(f) > 0 {
				t.Fatalf("fixes failed: %+v", f)
			}
			nFixed := plan.Count(fix.Fixed)
			if nFixed < 5 {
				t.Fatalf("only %d rules fixed: %+v", nFixed, plan.Results)
			}
			golden(t, name, dir, plan)

			if _, err := fix.Apply(plan.Changes, testNow); err != nil {
				t.Fatal(err)
			}
			after := scanDir(t, rs, dir, "")
			for _, r := range plan.Results {
				if r.Status == fix.Fixed && after.status[r.Rule] != finding.Pass {
					t.Errorf("%s reported fixed, but the re-scan says %s", r.Rule, after.status[r.Rule])
				}
			}
			for id, st := range before.status {
				if st == finding.Pass && after.status[id] != finding.Pass {
					t.Errorf("%s passed before the fix and is %s after it", id, after.status[id])
				}
			}
			// Idempotent: the fixed copy has nothing more to change.
			again := planDir(t, dir, after, options(keys))
			if len(again.Changes) > 0 {
				for _, c := range again.Changes {
					t.Errorf("a second fix changes %s (%v)", c.Path, c.Rules)
				}
			}
			if again.Count(fix.Fixed) > 0 {
				t.Errorf("a second fix reports fixes: %+v", again.Results)
			}
		})
	}
}

// masks hide what is random by design (cipher texts, generated values,
// the temporary directory) so the golden diffs stay stable.
var masks = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"[A-Za-z0-9+/]{200,}={0,2}"`), `"<cipher text>"`},
	{regexp.MustCompile(`hash\s*=\s*"[0-9a-f]{64}"`), `hash = "<sha256 of the new app_password>"`},
	{regexp.MustCompile(`SHA-256 [0-9a-f]{16}…`), `SHA-256 <fingerprint>…`},
}

func golden(t *testing.T, name, dir string, plan *fix.Plan) {
	t.Helper()
	var buf bytes.Buffer
	// Wide: the temporary home in the paths would move the wrapping.
	if err := render.Diff(&buf, plan, render.Options{Width: 1 << 12}); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(buf.String(), dir, "<HOME>")
	for _, m := range masks {
		got = m.re.ReplaceAllString(got, m.repl)
	}
	path := filepath.Join("testdata", "golden", name+".diff")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("the diff differs from %s (go test -update rewrites it):\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
