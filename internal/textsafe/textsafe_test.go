package textsafe

import (
	"strings"
	"testing"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"gw-\u202Etxt.exe":        "gw-[U+202E]txt.exe",
		"ad\u200Bmin":             "ad[U+200B]min",
		"\u2066x\u2069 \u200F":    "[U+2066]x[U+2069] [U+200F]",
		"bom\uFEFF":               "bom[U+FEFF]",
		"nul\x00 esc\x1b":         "nul[U+0000] esc[U+001B]",
		"tab\tnl\ncr\r ok · é 日本": "tab\tnl\ncr\r ok · é 日本",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q; want %q", in, got, want)
		}
	}
	page := []byte("<td>gw-\u202Etxt.exe</td>")
	if got := string(NeutralizeBytes(page)); strings.ContainsRune(got, '\u202E') {
		t.Errorf("NeutralizeBytes left the override: %q", got)
	}
}

func FuzzNeutralize(f *testing.F) {
	f.Add("gw-\u202Etxt.exe")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		out := Neutralize(s)
		for _, r := range out {
			if hidden(r) {
				t.Fatalf("Neutralize(%q) = %q keeps %U", s, out, r)
			}
		}
		if Neutralize(out) != out {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}
