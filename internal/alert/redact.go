package alert

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// A webhook URL is often a credential itself: Slack-style paths
// (/services/T/B/SECRET) and tokens in query strings let anyone who reads
// them post to the channel. Outside the configuration and the admins'
// view it is shown redacted: scheme and host only.

// RedactURL keeps a URL's scheme and host ("https://hooks.slack.com/…");
// user info, path, query and fragment go.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a URL)"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		out += "/…"
	}
	return out
}

// ScrubURLs redacts every URL in a text (an error message, a receiver's
// answer) with RedactURL.
func ScrubURLs(s string) string {
	urlRE := regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)
	return urlRE.ReplaceAllStringFunc(s, RedactURL)
}

// redacted wraps a delivery error so its text never carries the
// destination's URL, nor its path or query alone (a receiver may echo
// them), while errors.As still finds what it wraps.
type redacted struct {
	err    error
	secret []string // the URL and its parts, longest first
}

func newRedacted(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	r := &redacted{err: err, secret: []string{rawURL}}
	if u, perr := url.Parse(rawURL); perr == nil {
		for _, s := range []string{u.RequestURI(), u.EscapedPath(), u.RawQuery, u.Fragment} {
			if len(s) > 1 {
				r.secret = append(r.secret, s)
			}
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = RedactURL(ue.URL)
	}
	return r
}

func (r *redacted) Error() string {
	s := r.err.Error()
	for _, x := range r.secret {
		s = strings.ReplaceAll(s, x, "…")
	}
	return ScrubURLs(s)
}

func (r *redacted) Unwrap() error { return r.err }
