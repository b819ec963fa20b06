package hint

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type rule struct {
	ID     string   `yaml:"id"`
	Title  string   `yaml:"title"`
	Checks []*check `yaml:"checks"`
	Line   int      `yaml:"-"`
}

type check struct {
	Kind   string `yaml:"kind"`
	Assert string `yaml:"assert"`
}

func decode(t *testing.T, s string) error {
	t.Helper()
	var v struct {
		Rules []rule `yaml:"rules"`
	}
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	return YAML(dec.Decode(&v), []byte(s), v)
}

func TestClosest(t *testing.T) {
	for _, c := range []struct {
		word string
		want string
		ok   bool
	}{
		{"titel", "title", true}, {"TLS-04", "TLS-004", true}, {"tls-004", "TLS-004", true}, {"expire", "expires", true}, {"zzzzzz", "", false},
	} {
		got, ok := Closest(c.word, []string{"title", "TLS-004", "TLS-040", "expires", "id"})
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s: %q %v", c.word, got, ok)
		}
	}
}

func TestYAMLHints(t *testing.T) {
	err := decode(t, "rules:\n  - id: X-001\n    titel: t\n    checks:\n      - {kind: file, asert: x}\n")
	if err == nil || !strings.Contains(err.Error(), `line 3: unknown key "titel"; did you mean "title"?`) || !strings.Contains(err.Error(), `line 5: unknown key "asert"; did you mean "assert"?`) {
		t.Fatalf("%v", err)
	}
	err = decode(t, "rules:\n  - id: X-001\n    frobnicate: 1\n")
	if err == nil || !strings.Contains(err.Error(), "known here: checks, id, title") {
		t.Fatalf("%v", err)
	}
	err = decode(t, "rules:\n\t- id: X-001\n")
	if err == nil || !strings.Contains(err.Error(), "line 2 is indented with a tab") {
		t.Fatalf("%v", err)
	}
	if YAML(nil, nil) != nil || YAML(errors.New("x"), []byte("a: 1\n")).Error() != "x" {
		t.Fatal("YAML changed what it should not")
	}
}
