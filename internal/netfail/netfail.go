// Package netfail is the fixed vocabulary of why a network probe failed:
// the peer refused the connection, did not answer in time, reset it,
// closed it before the protocol was done, sent a TLS alert, spoke another
// protocol, or sent more than a probe reads. Facts record the reason next
// to the error text (facts.Status.Cause and the probes' *_cause fields), so
// rules and reports can tell "unreachable" from "answered wrongly" without
// reading English.
//
// Wire code marks its own errors with a reason (New, Mark); Of finds the
// reason of any error, marked or not (system call errors, deadlines, end
// of stream, crypto/tls alerts). It depends on the standard library only.
package netfail

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Reason is why a probe connection failed.
type Reason string

// The reasons. An error of none of these kinds has no reason ("").
const (
	// Refused: the connection was refused (nothing listens, or a filter
	// answered with a reset to the SYN).
	Refused Reason = "refused"
	// Timeout: no connection, or no answer, within the time allowed.
	Timeout Reason = "timeout"
	// Reset: the peer reset an established connection.
	Reset Reason = "reset"
	// ClosedEarly: the peer closed the connection before the exchange
	// was done (without a word, or in the middle of a message).
	ClosedEarly Reason = "closed_early"
	// TLSAlert: the peer ended a TLS handshake with an alert.
	TLSAlert Reason = "tls_alert"
	// ProtocolMismatch: the peer answered, but not in the protocol the
	// probe speaks, or broke that protocol's rules.
	ProtocolMismatch Reason = "protocol_mismatch"
	// TooLarge: the peer sent more than the probe accepts (a record, a
	// message, a packet, or the connection's read limit).
	TooLarge Reason = "too_large"
)

// Reasons lists every reason, in a stable order.
func Reasons() []Reason {
	return []Reason{Refused, Timeout, Reset, ClosedEarly, TLSAlert, ProtocolMismatch, TooLarge}
}

// Error is an error with its reason.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns a sentinel error with a reason (compare it with errors.Is).
func New(r Reason, text string) error { return &Error{Reason: r, Err: errors.New(text)} }

// Mark wraps err with reason r; the text stays err's. A nil err stays nil.
func Mark(r Reason, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Reason: r, Err: err}
}

// reasoner is an error type that knows its reason without being an
// *Error (tlswire's Alert).
type reasoner interface{ NetfailReason() Reason }

// Of returns the reason of err: the outermost reason marked on it (New,
// Mark, or an error type with a NetfailReason method), else what the
// error itself says (a refused or reset connection, a deadline, the end
// of the stream, a crypto/tls alert or a non-TLS record), else "". A
// cancelled context has no reason: the scan stopped, the peer did nothing.
func Of(err error) Reason {
	if err == nil {
		return ""
	}
	if r, ok := marked(err); ok {
		return r
	}
	var alert tls.AlertError
	var rh tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return Reset
	case errors.As(err, &alert), errors.As(err, &op) && op.Op == "remote error":
		return TLSAlert
	case errors.As(err, &rh):
		return ProtocolMismatch
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ClosedEarly
	case IsTimeout(err):
		return Timeout
	}
	return ""
}

// marked finds the first reason marked in err's tree, depth first.
func marked(err error) (Reason, bool) {
	switch e := err.(type) {
	case *Error:
		return e.Reason, true
	case reasoner:
		return e.NetfailReason(), true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return marked(next)
		}
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if r, ok := marked(e); ok {
				return r, true
			}
		}
	}
	return "", false
}

// IsTimeout reports a deadline that passed: a socket deadline, a
// context's, or a net.Error that says it timed out.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// IsHangUp reports errors that mean the peer closed or reset the
// connection.
func IsHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
