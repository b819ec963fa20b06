package javaprops

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// read splits one logical line (leading white space removed) into its key
// and value, as the scanner and the editor do.
func read(line string) (string, string) {
	k, sep := SplitKey(line)
	return Unescape(line[:k]), Unescape(line[k+sep:])
}

func TestReadLines(t *testing.T) {
	for _, c := range []struct{ line, key, value string }{
		{"a=b", "a", "b"},
		{"a = b", "a", "b"},
		{"a:b", "a", "b"},
		{"a b", "a", "b"},
		{"a \t = \t b c ", "a", "b c "},
		{"a", "a", ""},
		{"a=", "a", ""},
		{"=b", "", "b"},
		{`a\ b=c`, "a b", "c"},
		{`a\=b=c`, "a=b", "c"},
		{`a\:b:c=d`, "a:b", "c=d"},
		{`k=\ lead`, "k", " lead"},
		{`k=tab\there`, "k", "tab\there"},
		{`k=\u00e9t\u00E9`, "k", "été"},
		{`k=\uD83D\uDE00`, "k", "😀"},
		{`k=\uD83Dx`, "k", "\uFFFDx"},
		{`k=\u00zz`, "k", "u00zz"},
		{`k=\u12`, "k", "u12"},
		{`k=a\qb`, "k", "aqb"},
		{`k=end\`, "k", `end\`},
		{`k=c:\\path\\x`, "k", `c:\path\x`},
	} {
		k, v := read(c.line)
		if k != c.key || v != c.value {
			t.Errorf("%q: read (%q, %q), want (%q, %q)", c.line, k, v, c.key, c.value)
		}
	}
}

func TestContinues(t *testing.T) {
	for s, want := range map[string]bool{
		`a`: false, `a\`: true, `a\\`: false, `a\\\`: true, ``: false, `\`: true,
	} {
		if got := Continues(s); got != want {
			t.Errorf("Continues(%q) = %v, want %v", s, got, want)
		}
	}
}

// tricky keys and values, written escaped, must be read back whole.
var tricky = []string{
	"", "plain", " lead", "trail ", "a=b", "a:b", "a b", "#hash", "!bang", `back\slash`,
	"line\nbreak", "cr\rhere", "tab\there", "form\ffeed", `\u0041`, "é", "😀", "ends with \\",
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, k := range tricky {
		for _, v := range tricky {
			line := EscapeKey(k) + "=" + EscapeValue(v)
			if strings.ContainsAny(line, "\n\r") {
				t.Fatalf("escaped line %q holds a line break", line)
			}
			if gk, gv := read(line); gk != k || gv != v {
				t.Errorf("(%q, %q) written %q read back (%q, %q)", k, v, line, gk, gv)
			}
		}
	}
}

func FuzzEscapeRoundTrip(f *testing.F) {
	for i, k := range tricky {
		f.Add(k, tricky[len(tricky)-1-i])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return
		}
		line := EscapeKey(k) + "=" + EscapeValue(v)
		if strings.ContainsAny(line, "\n\r") || Continues(line) {
			t.Fatalf("escaped line %q breaks or continues", line)
		}
		if gk, gv := read(line); gk != k || gv != v {
			t.Fatalf("(%q, %q) written %q read back (%q, %q)", k, v, line, gk, gv)
		}
	})
}

func FuzzRead(f *testing.F) {
	f.Add(`a\ b = c\u00e9\`)
	f.Add(`\uD83D\uDE00:\uDE00`)
	f.Fuzz(func(t *testing.T, line string) {
		k, sep := SplitKey(line)
		if k < 0 || sep < 0 || k+sep > len(line) {
			t.Fatalf("SplitKey(%q) = %d, %d", line, k, sep)
		}
		// The key never holds an unescaped separator.
		key := line[:k]
		for i := 0; i < len(key); i++ {
			if key[i] == '\\' {
				i++
				continue
			}
			if strings.IndexByte("=: \t\f", key[i]) >= 0 {
				t.Fatalf("key %q of %q holds an unescaped separator", key, line)
			}
		}
		if u := Unescape(line); utf8.ValidString(line) && !utf8.ValidString(u) {
			t.Fatalf("Unescape(%q) = %q is not UTF-8", line, u)
		}
	})
}

// TestAgainstJava: what java.util.Properties loads from hand-written
// tricky lines and from escaped ones is what rampart reads.
func TestAgainstJava(t *testing.T) {
	java := testenv.Tool(t, "java", "a JDK to load properties with java.util.Properties: apt-get install openjdk-17-jdk-headless")
	lines := []string{
		"a=b", "b = c", "c:d", "d e", "e \t = \t f g ", "f", "g=", `h\ i=j`, `i\=j=k`, `j\:k:l=m`,
		`k=\ lead`, `l=tab\there`, `m=\u00e9t\u00E9`, `n=\uD83D\uDE00`, `o=a\qb`, `p=c:\\path\\x`,
		`q\u0041=r`, "r=é😀",
	}
	for i, k := range tricky {
		lines = append(lines, EscapeKey("t"+k)+" = "+EscapeValue(tricky[len(tricky)-1-i]))
	}
	want := map[string]string{}
	for _, l := range lines {
		k, v := read(l)
		want[k] = v
	}
	file := filepath.Join(t.TempDir(), "t.properties")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(java, filepath.Join("testdata", "Load.java"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kx, vx, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("java printed %q", l)
		}
		got[unhex(t, kx)] = unhex(t, vx)
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if g, ok := got[k]; !ok || g != want[k] {
			t.Errorf("key %q: rampart reads %q, Java %q (present %v)", k, want[k], g, ok)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Java loaded %d keys, rampart %d", len(got), len(want))
	}
}

func unhex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "x"))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return string(b)
}
