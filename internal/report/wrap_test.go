package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	got := wrap("the quick brown fox jumps over the lazy dog", 10)
	want := []string{"the quick", "brown fox", "jumps over", "the lazy", "dog"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%q", got)
	}
	got = wrap("a verylongwordthatdoesnotfit b\nnext", 8)
	for _, l := range got {
		if utf8.RuneCountInString(l) > 8 {
			t.Fatalf("line %q longer than 8 in %q", l, got)
		}
	}
	if got[len(got)-1] != "next" {
		t.Fatalf("newline not kept: %q", got)
	}
}

func TestSummarize(t *testing.T) {
	var items []string
	for _, s := range []string{"TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_ARIA_256_GCM_SHA384"} {
		items = append(items, "TLSv1.2 "+s)
	}
	msg := "suites without forward secrecy: " + strings.Join(items, ", ") + "; and more to say"
	got := summarize(msg, 140)
	if utf8.RuneCountInString(got) > 140 || !strings.HasPrefix(got, "suites without forward secrecy: TLSv1.2 TLS_RSA_WITH_AES_256_CBC_SHA, ") || !strings.Contains(got, "more; -v for all; and more to say") {
		t.Fatalf("%q", got)
	}
	if summarize("short", 10) != "short" {
		t.Fatal("a short message changed")
	}
	// Prose is kept whole: cutting it could drop what matters most (an
	// expired attestation noted at its end).
	long := strings.Repeat("word ", 60) + "(attestation expired)"
	if got := summarize(long, 80); got != long {
		t.Fatalf("%q", got)
	}
}

func TestReflow(t *testing.T) {
	in := "Set this\nand that.\n\nThen:\n- one\n  continued\n- two\n1. first\n"
	want := "Set this and that.\n\nThen:\n- one continued\n- two\n1. first"
	if got := reflow(in); got != want {
		t.Fatalf("%q", got)
	}
}

// wrap breaks s into lines of at most width characters, at spaces where it
// can; a word longer than a line is cut. Newlines in s start new lines.
func wrap(s string, width int) []string { return wrapHanging(s, width, width) }
