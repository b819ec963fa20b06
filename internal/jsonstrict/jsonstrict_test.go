package jsonstrict

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
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

// unmarshalSeeds are inputs where decoders tend to differ.
var unmarshalSeeds = []string{
	`{"a":1}`, ` {"a":1} `, `{"a":1}}`, `{"a":1}]`, `{"a":1}{"a":2}`, `{"a":1}x`, "{\"a\":1}\x00", `{"a":`, ``, `null`,
	`{"A":1,"a":2}`, `{"a":2,"A":1}`, `{"a":1,"a":2}`, `{"\u0061":3}`, `{"b":[1,2],"b":[3]}`, `{"m":{"x":1},"m":{"y":2}}`,
	`{"p":{"a":1},"p":{"b":"x"}}`, `{"p":null}`, `{"a":null}`, `{"a":1e400}`, `{"a":99999999999999999999}`, `{"a":1.0}`, `{"a":-0}`,
	`{"t":"2026-12-03T09:15:23Z"}`, `{"t":"2026-12-03T09:15:23\u005a"}`, `{"t":"2026-12-03T09:15:23.5+01:00"}`, `{"t":null}`, `{"t":0}`,
	`{"d":60000000000}`, `{"d":6e10}`, `{"d":"1m"}`, "{\"s\":\"\xff\xfe\"}", `{"s":"\ud800"}`, `{"\u212a":1}`, `{"unknown":[{}]}`,
	`[1,"a",{"b":null},true]`, `"str"`, `1e400`,
}

type unmarshalTarget struct {
	A int
	B []int
	M map[string]int
	P *struct {
		A int
		B string
	}
	K int           `json:"k"`
	T time.Time     `json:"t"`
	D time.Duration `json:"d"`
	S string        `json:"s"`
}

// TestUnmarshalIsDecode: Unmarshal decodes what Decode decodes, to the
// same value, and refuses what it refuses (trailing data as trailing
// data).
func TestUnmarshalIsDecode(t *testing.T) {
	for _, s := range unmarshalSeeds {
		checkUnmarshalIsDecode(t, s)
	}
}

func FuzzUnmarshalIsDecode(f *testing.F) {
	for _, s := range unmarshalSeeds {
		f.Add(s)
	}
	f.Fuzz(checkUnmarshalIsDecode)
}

func checkUnmarshalIsDecode(t *testing.T, in string) {
	same(t, in, func() any { return new(any) })
	same(t, in, func() any { return new(unmarshalTarget) })
}

func same(t *testing.T, in string, newV func() any) {
	t.Helper()
	want, got := newV(), newV()
	werr := Decode(strings.NewReader(in), want)
	gerr := Unmarshal([]byte(in), got)
	if (werr == nil) != (gerr == nil) || errors.Is(werr, ErrTrailing) && !errors.Is(gerr, ErrTrailing) {
		t.Fatalf("%T from %q: Decode says %v, Unmarshal %v", want, in, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %q: Unmarshal decodes %+v, Decode %+v", want, in, got, want)
	}
}
