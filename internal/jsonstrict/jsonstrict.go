// Package jsonstrict decodes exactly one JSON value from input rampart
// did not write (an uploaded report, a report given to diff, a message
// from the bus): anything after the value but white space is an error, so
// two values, or a value with garbage after it, are not read as the first
// one. json.Decoder.Decode stops after the first value, and its More
// reports only whether another array element or object member follows,
// so a trailing "]" or "}" passed that check.
package jsonstrict

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
