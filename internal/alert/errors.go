package alert

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PermanentError is a delivery failure that retrying cannot fix: the
// destination refused the alert for good (an HTTP 4xx other than 408 and
// 429), or the alert cannot be sent at all. The dispatcher moves such an
// alert to the dead letters at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// StatusError is a destination's answer other than 2xx.
type StatusError struct {
	Dest string
	Code int
	// Body is the start of the answer, printable characters only.
	Body string
}

func (e *StatusError) Error() string {
	if e.Body != "" {
		return fmt.Sprintf("post %s: status %d: %s", e.Dest, e.Code, e.Body)
	}
	return fmt.Sprintf("post %s: status %d", e.Dest, e.Code)
}

// permanentStatus reports whether an HTTP status means the receiver will
// never take this alert: a client error, except 408 Request Timeout and
// 429 Too Many Requests, which say "later".
func permanentStatus(code int) bool {
	return code >= 400 && code <= 499 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

// printable keeps the first n printable ASCII characters of b (a
// receiver's answer shown on the dashboard), spaces for the rest.
func printable(b []byte, n int) string {
	out := make([]byte, 0, n)
	for _, c := range b {
		if len(out) >= n {
			break
		}
		switch {
		case c >= 0x20 && c < 0x7f:
			out = append(out, c)
		case c == '\n' || c == '\r' || c == '\t':
			if len(out) > 0 && out[len(out)-1] != ' ' {
				out = append(out, ' ')
			}
		}
	}
	return strings.TrimSpace(string(out))
}
