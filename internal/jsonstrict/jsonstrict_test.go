package jsonstrict

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		in       string
		trailing bool
	}{
		{`{"a":1}`, false},
		{" {\"a\":1} \n\t\r\n", false},
		{`{"a":1}}`, true},
		{`{"a":1}]`, true},
		{`{"a":1}{"a":2}`, true},
		{`{"a":1} 7`, true},
		{`{"a":1}x`, true},
		{"{\"a\":1}\x00", true},
	} {
		var v struct{ A int }
		err := Decode(strings.NewReader(c.in), &v)
		if c.trailing != errors.Is(err, ErrTrailing) || (!c.trailing && err != nil) {
			t.Errorf("%q: %v", c.in, err)
		}
		if err == nil && v.A != 1 {
			t.Errorf("%q: %+v", c.in, v)
		}
	}
	var v any
	if err := Decode(strings.NewReader(`{"a":`), &v); err == nil || errors.Is(err, ErrTrailing) {
		t.Errorf("truncated value: %v", err)
	}
}

// FuzzDecode: what Decode accepts is exactly one JSON value and white
// space: json.Valid holds for it, and the value re-encoded decodes again.
func FuzzDecode(f *testing.F) {
	f.Add(`{"a":[1,2,{"b":null}]} `)
	f.Add(`{"a":1}]`)
	f.Fuzz(func(t *testing.T, in string) {
		var v any
		if err := Decode(strings.NewReader(in), &v); err != nil {
			return
		}
		if !json.Valid([]byte(in)) {
			t.Fatalf("accepted %q, which is not one JSON value", in)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var again any
		if err := Decode(strings.NewReader(string(b)), &again); err != nil {
			t.Fatalf("re-encoded %s: %v", b, err)
		}
	})
}
