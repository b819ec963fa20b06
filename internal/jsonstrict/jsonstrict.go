// Package jsonstrict decodes exactly one JSON value from input rampart
// did not write (an uploaded report, a report given to diff, a message
// from the bus): anything after the value but white space is an error, so
// two values, or a value with garbage after it, are not read as the first
// one. json.Decoder.Decode stops after the first value, and its More
// reports only whether another array element or object member follows,
// so a trailing "]" or "}" passed that check.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// ErrTrailing is returned when something follows the JSON value.
var ErrTrailing = errors.New("trailing data after the JSON value")

// Decode reads one JSON value from r into v, and fails unless only white
// space follows it.
func Decode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return err
	}
	return end(dec)
}

// Unmarshal decodes data, which must hold one JSON value and white space
// only, into v: what Decode accepts, decoded to the same value, and what
// it refuses refused (TestUnmarshalIsDecode and FuzzUnmarshalIsDecode
// hold it to that), in about half the time. It is encoding/json's
// Unmarshal as reimplemented by the Go team's encoding/json/v2 work (what
// encoding/json is under GOEXPERIMENT=jsonv2) with encoding/json's
// semantics: object keys matched case-insensitively (an exact match
// preferred), duplicate keys accepted (the last wins, objects merged),
// invalid UTF-8 replaced by U+FFFD, types' UnmarshalJSON and
// UnmarshalText called. Like encoding/json's Unmarshal it checks the
// whole input is one valid value before it decodes, and refuses anything
// after it; such an error wraps ErrTrailing, as Decode's does.
func Unmarshal(data []byte, v any) error {
	err := jsonv2.Unmarshal(data, v, jsonv1.DefaultOptionsV1(), jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(unmarshalTime)))
	if err != nil && trailing(data) {
		return fmt.Errorf("%w: %v", ErrTrailing, err)
	}
	return err
}

// unmarshalTime reads a time as encoding/json does: time.Time's
// UnmarshalJSON given the JSON value as it is written. jsonv1 unquotes a
// time string before it parses it, so it read "2026-12-03T09:15:23\u005a"
// (Z written as an escape), which encoding/json refuses.
func unmarshalTime(dec *jsontext.Decoder, t *time.Time) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return t.UnmarshalJSON(raw)
}

// trailing reports whether data is one JSON value followed by more than
// white space (only asked of input Unmarshal refused).
func trailing(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return false
	}
	return end(dec) != nil
}

func end(dec *json.Decoder) error {
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %v", ErrTrailing, err)
	default:
		return fmt.Errorf("%w: %v at offset %d", ErrTrailing, tok, dec.InputOffset())
	}
}
