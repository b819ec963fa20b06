package wso2

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/certinfo/certtest"
)

// A product version with no real fixture in ../shared is a recipe:
// testdata/products/<name>/fixture.yaml names the nearest real fixture and
// the edits, each with the source that shows it, that make it the version.
type recipe struct {
	Base  string `yaml:"base"`
	Edits []struct {
		File    string `yaml:"file"`
		Why     string `yaml:"why"`
		Replace *struct {
			Old string `yaml:"old"`
			New string `yaml:"new"`
		} `yaml:"replace"`
		KeytoolDelete *struct {
			Alias    string `yaml:"alias"`
			Password string `yaml:"password"`
		} `yaml:"keytool_delete"`
	} `yaml:"edits"`
}

// recipeNames lists the fixtures built by recipe.
func recipeNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "products"))
	if err != nil && !os.IsNotExist(err) {
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

// allFixtureNames are the shared fixtures and the recipes, sorted.
func allFixtureNames(t testing.TB) []string {
	t.Helper()
	out := append(fixtureNames(t), recipeNames(t)...)
	sort.Strings(out)
	return out
}

// fixtureDir is the directory of a fixture by name: a shared one as it is,
// a recipe built into a temporary directory of that name.
func fixtureDir(t testing.TB, name string) string {
	t.Helper()
	shared := filepath.Join(fixturesDir(t), name)
	if _, err := os.Stat(shared); err == nil {
		return shared
	}
	b, err := os.ReadFile(filepath.Join("testdata", "products", name, "fixture.yaml"))
	if err != nil {
		t.Fatalf("fixture %s: neither in %s nor a recipe: %v", name, fixturesDir(t), err)
	}
	var r recipe
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("recipe %s: %v", name, err)
	}
	dir := filepath.Join(t.TempDir(), name)
	copyTree(t, filepath.Join(fixturesDir(t), r.Base), dir)
	for i, e := range r.Edits {
		p := filepath.Join(dir, filepath.FromSlash(e.File))
		if e.Why == "" {
			t.Fatalf("recipe %s edit %d (%s): no why", name, i+1, e.File)
		}
		switch {
		case e.Replace != nil && e.KeytoolDelete == nil:
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), e.Replace.Old); n != 1 {
				t.Fatalf("recipe %s edit %d: %q occurs %d times in %s, want once", name, i+1, e.Replace.Old, n, e.File)
			}
			writeFile(t, p, []byte(strings.Replace(string(b), e.Replace.Old, e.Replace.New, 1)))
		case e.KeytoolDelete != nil && e.Replace == nil:
			certtest.Keytool(t, "-delete", "-noprompt", "-alias", e.KeytoolDelete.Alias, "-keystore", p, "-storepass", e.KeytoolDelete.Password)
		default:
			t.Fatalf("recipe %s edit %d (%s): want exactly one of replace, keytool_delete", name, i+1, e.File)
		}
	}
	return dir
}
