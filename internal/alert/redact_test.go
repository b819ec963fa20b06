package alert

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/SECRET": "https://hooks.slack.com/…",
		"https://example.com/hook?token=SECRET":         "https://example.com/…",
		"https://user:SECRET@example.com":               "https://example.com/…",
		"https://example.com/":                          "https://example.com",
		"not a url":                                     "(a URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q; want %q", in, got, want)
		}
	}
	msg := `post ops: Post "https://h.example/x/SECRET?k=SECRET": dial tcp: refused`
	if got := ScrubURLs(msg); strings.Contains(got, "SECRET") || !strings.Contains(got, "https://h.example/…") {
		t.Errorf("ScrubURLs = %q", got)
	}
	raw := "http://127.0.0.1:1/services/SECRET?token=SECRETQ"
	inner := &url.Error{Op: "Post", URL: raw, Err: errors.New("connection refused")}
	err := &PermanentError{newRedacted(fmt.Errorf("post ops: %w; receiver said: cannot take /services/SECRET?token=SECRETQ", inner), raw)}
	if strings.Contains(err.Error(), "SECRET") || !IsPermanent(err) {
		t.Errorf("redacted error %q (permanent %v)", err, IsPermanent(err))
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Error("the redacted error hides what it wraps")
	}
}
