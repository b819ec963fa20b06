package wso2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// TestDescribedVersionsHaveFixtures holds products.yaml and the fixtures
// to each other: every described version has its fixture (shared, or a
// recipe in testdata/products) that reads as that product and version, a
// verdict case judging it as it is and a golden report, and lists exactly
// the default certificates its keystores hold; every fixture is a
// described version. Supporting a new version is a data change with a
// fixture: this test fails until both are there.
func TestDescribedVersionsHaveFixtures(t *testing.T) {
	kb := wso2kb.Default()
	cases := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "verdicts", "*.yaml"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if name == "directory" {
			continue
		}
		if c := readCase(t, name); len(c.Build) == 0 {
			cases[c.Base] = true
		}
	}
	fixtures := allFixtureNames(t)
	used := map[string]bool{}
	for _, profile := range kb.Profiles() {
		for _, d := range kb.Versions(profile) {
			t.Run(profile+"-"+d.Key, func(t *testing.T) {
				if !slices.Contains(fixtures, d.Fixture) {
					t.Fatalf("fixture %s is neither in ../shared/fixtures/wso2 nor a recipe in testdata/products", d.Fixture)
				}
				used[d.Fixture] = true
				dir := fixtureDir(t, d.Fixture)
				h, err := openHome(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				det, err := detect(h, "", kb)
				h.close()
				if err != nil {
					t.Fatal(err)
				}
				if det.profile != profile || det.kb.Described != d.Key {
					t.Errorf("fixture %s reads as %s %s (described %q), want %s %s", d.Fixture, det.profile, det.version, det.kb.Described, profile, d.Key)
				}
				if !cases[d.Fixture] {
					t.Errorf("no verdict case judges %s as it is (testdata/verdicts, base: %s, no build)", d.Fixture, d.Fixture)
				}
				if _, err := os.Stat(filepath.Join("testdata", "golden", d.Fixture+".txt")); err != nil {
					t.Errorf("no golden report: %v", err)
				}
				var want []string
				for _, c := range d.Certificates {
					want = append(want, c.SHA256)
				}
				if got := defaultCertificates(t, dir); !slices.Equal(got, sortedSet(want)) {
					t.Errorf("the default certificates in %s's keystores are %v; products.yaml lists %v", d.Fixture, got, sortedSet(want))
				}
			})
		}
	}
	for _, f := range fixtures {
		if !used[f] {
			t.Errorf("fixture %s is no described version in products.yaml", f)
		}
	}
}

// defaultCertificates are the SHA-256 fingerprints of the WSO2 default
// certificates (CN=localhost, O=WSO2) in a home's shipped keystores.
func defaultCertificates(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	stores, _ := filepath.Glob(filepath.Join(dir, "repository/resources/security/*"))
	for _, p := range stores {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := keystore.Open(b, "wso2carbon")
		if err != nil {
			continue // not a keystore (or not the shipped password)
		}
		for _, e := range st.Entries {
			for _, der := range e.Chain {
				c := certinfo.FromDER(der)
				if strings.Contains(c.Subject, "CN=localhost") && strings.Contains(c.Subject, "O=WSO2") {
					sum := sha256.Sum256(der)
					out = append(out, hex.EncodeToString(sum[:]))
				}
			}
		}
	}
	return sortedSet(out)
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestVersionSupportIsData: the same collector code, given products.yaml
// without its IS 7.2 entry, scans the 7.2.0 fixture as a version it does
// not describe and says so; with the entry it does not. Verdicts do not
// depend on it (7.2 keeps 7.1's layout).
func TestVersionSupportIsData(t *testing.T) {
	dir := fixtureDir(t, "is-7.2.0")
	b, err := os.ReadFile(filepath.Join("..", "..", "wso2kb", "products.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(b)
	start, end := strings.Index(y, "      \"7.2\":\n"), strings.Index(y, "      \"7.3\":\n")
	if start < 0 || end < start {
		t.Fatal("no IS 7.2 entry in products.yaml")
	}
	without, err := wso2kb.Parse([]byte(y[:start] + y[end:]))
	if err != nil {
		t.Fatal(err)
	}
	tg := target.Target{Name: "is-7.2.0", Kind: target.Directory, Dir: dir}
	notes := func(c *Collector) string {
		f, err := c.Collect(context.Background(), tg, &collect.Env{})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(f.Product.Notes, "\n")
	}
	if n := notes(WithCatalog(without)); !strings.Contains(n, "WSO2 Identity Server 7.2 is not described in rampart's product data (it describes 5.11, 7.1, 7.3)") {
		t.Errorf("without the 7.2 entry, notes:\n%s", n)
	}
	if n := notes(New()); strings.Contains(n, "not described") {
		t.Errorf("with the 7.2 entry, notes:\n%s", n)
	}
}
