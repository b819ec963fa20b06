package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

// decodeSeeds are findings as stored: every field, an exception, empty
// and missing lists, escapes, text in other scripts, a field a later
// rampart dropped, and bytes that are not UTF-8.
var decodeSeeds = []string{
	`{"rule":"TLS-002","title":"Weak \u003cciphers\u003e \u0026 more","target":"https://gw-\u202etxt.exe:9443/","status":"fail","severity":4,"domain":"tls","message":"line\nbreak \u2028 \"quoted\" ünïcødé 日本","checks":["probe"],"evidence":[{"source":"s","line":3,"path":"a.b","value":"TLSv1.0","check":"probe"}],"remediation":"fix it","references":["https://example.invalid/x"],"fingerprint":"0123abcd","exception":{"kind":"waiver","reason":"r","by":"b","expires":"2099-01-01","original":"fail"}}`,
	`{"rule":"SEC-001","title":"t","target":"x","status":"pass","severity":1,"domain":"sec","message":"","checks":null,"evidence":[],"remediation":"","references":null,"fingerprint":"f"}`,
	`{"rule":"OS-003","status":"manual","severity":2,"dropped_field":{"a":[1,2,{"b":null}]},"fingerprint":"g"}`,
	`{"Rule":"CASE-001","STATUS":"fail","severity":3.0e0}`,
	"{\"rule\":\"BAD-\xff\xfe\",\"message\":\"\xc3\x28 half a rune\",\"severity\":5}",
	`{"rule":"DUP","rule":"DUP-2","evidence":[{"line":-7}]}`,
	`{"severity":"4"}`,
	`{"severity":1e400}`,
	`[]`, `null`, `{"rule":`, ``,
}

// TestDecodeFindingIsUnmarshal: decodeFinding reads every stored finding
// as encoding/json's Unmarshal does (the same finding, or an error
// where it errs).
func TestDecodeFindingIsUnmarshal(t *testing.T) {
	for _, s := range decodeSeeds {
		checkDecodeSame(t, []byte(s))
	}
}

func FuzzDecodeFinding(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeSame(t, data)
	})
}

func checkDecodeSame(t *testing.T, data []byte) {
	t.Helper()
	var want, got finding.Finding
	werr := json.Unmarshal(data, &want)
	gerr := decodeFinding(data, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json says %v, decodeFinding %v", data, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded\n%+v\nwant\n%+v", data, got, want)
	}
}
