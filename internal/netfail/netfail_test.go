package netfail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// alertLike is an error type that knows its reason, as tlswire.Alert does.
type alertLike struct{}

func (alertLike) Error() string         { return "server sent alert: handshake_failure" }
func (alertLike) NetfailReason() Reason { return TLSAlert }

func TestOf(t *testing.T) {
	tooLarge := New(TooLarge, "message too large")
	for _, tc := range []struct {
		name string
		err  error
		want Reason
	}{
		{"nil", nil, ""},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Refused},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), Reset},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), Reset},
		{"end of stream", fmt.Errorf("record body: %w", io.ErrUnexpectedEOF), ClosedEarly},
		{"socket deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), Timeout},
		{"context deadline", fmt.Errorf("connect: %w", context.DeadlineExceeded), Timeout},
		{"cancelled", fmt.Errorf("connect: %w", context.Canceled), ""},
		{"crypto/tls alert", fmt.Errorf("handshake: %w", tls.AlertError(40)), TLSAlert},
		{"crypto/tls remote error", &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}, TLSAlert},
		{"not a TLS record", fmt.Errorf("tls: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), ProtocolMismatch},
		{"sentinel", fmt.Errorf("record of 70000 bytes: %w", tooLarge), TooLarge},
		{"error type with a reason", fmt.Errorf("during the handshake: %w", alertLike{}), TLSAlert},
		// The outermost mark wins over what the error beneath says.
		{"marked timeout over EOF", Mark(Timeout, fmt.Errorf("stalled: %w", io.EOF)), Timeout},
		{"mark over an alert", fmt.Errorf("x: %w", Mark(ProtocolMismatch, alertLike{})), ProtocolMismatch},
		{"joined: the first mark", errors.Join(errors.New("TLSv1.0: no"), fmt.Errorf("TLSv1.2: %w", tooLarge)), TooLarge},
		{"unclassified", errors.New("no such host"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.err); got != tc.want {
				t.Errorf("Of(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// A marked error reads as the error it wraps and still matches it.
func TestMarkKeepsTextAndIdentity(t *testing.T) {
	base := fmt.Errorf("read: %w", io.EOF)
	m := Mark(Reset, base)
	if m.Error() != base.Error() || !errors.Is(m, io.EOF) {
		t.Errorf("Mark: %q, is EOF %v", m, errors.Is(m, io.EOF))
	}
	if Mark(Reset, nil) != nil {
		t.Error("Mark(nil) is not nil")
	}
	s := New(Refused, "x")
	if !errors.Is(fmt.Errorf("y: %w", s), s) || Of(s) != Refused {
		t.Error("a sentinel is not found by errors.Is, or lost its reason")
	}
}

func TestReasonsAreDistinct(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if r == "" || seen[r] {
			t.Errorf("reason %q empty or twice", r)
		}
		seen[r] = true
	}
	if len(seen) != 7 {
		t.Errorf("%d reasons, want the 7 of the vocabulary", len(seen))
	}
}
