package bus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/jsonstrict"
)

// legacyDecode is strictDecode as it was until it used jsonstrict.Unmarshal:
// encoding/json's Decoder, then jsonstrict's check that nothing follows.
// It is the reference the messages' decoding must agree with.
func legacyDecode(data []byte, v any) error {
	if len(data) > maxMessage {
		return fmt.Errorf("%d bytes: larger than %d", len(data), maxMessage)
	}
	return jsonstrict.Decode(bytes.NewReader(data), v)
}

// sameDecode decodes data into a T with strictDecode and with
// legacyDecode: both accept it and decode the same value, or both refuse
// it (and what legacyDecode calls trailing data strictDecode does too).
// It returns the value when both accepted it.
func sameDecode[T any](t *testing.T, data []byte) *T {
	t.Helper()
	var want, got T
	werr := legacyDecode(data, &want)
	gerr := strictDecode(data, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%T from %.300q: encoding/json says %v, strictDecode %v", want, data, werr, gerr)
	}
	if werr != nil {
		if errors.Is(werr, jsonstrict.ErrTrailing) && !errors.Is(gerr, jsonstrict.ErrTrailing) {
			t.Fatalf("%T from %.300q: trailing data (%v) refused as %v", want, data, werr, gerr)
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %.300q: decoded\n%+v\nwant\n%+v", want, data, got, want)
	}
	return &got
}

// checkSameDecode holds every message type's decoding of data to
// encoding/json's, and DecodeResult's and DecodeJob's verdicts (the
// validation included) to those of the same decoding done by
// encoding/json. The other messages' checks are functions of the decoded
// value alone, which sameDecode proves the same.
func checkSameDecode(t *testing.T, data []byte) {
	t.Helper()
	plain := data
	if p, err := uncompress(data); err == nil {
		plain = p
	}
	r := sameDecode[Result](t, plain)
	_, err := DecodeResult(data)
	if _, uerr := uncompress(data); uerr == nil && (err == nil) != (r != nil && r.validate() == nil) {
		t.Fatalf("result %.300q: DecodeResult says %v; encoding/json decodes %+v", data, err, r)
	}
	j := sameDecode[Job](t, data)
	if _, err := DecodeJob(data); (err == nil) != (j != nil && j.Validate() == nil) {
		t.Fatalf("job %.300q: DecodeJob says %v; encoding/json decodes %+v", data, err, j)
	}
	sameDecode[Heartbeat](t, data)
	sameDecode[Failure](t, data)
	sameDecode[DeadLetter](t, data)
}

// corpus reads the seeds go test -fuzz keeps in testdata/fuzz (each file
// holds one []byte value).
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/fuzz/*/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("fuzz corpus: %v (%d files)", err, len(files))
	}
	out := map[string][]byte{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		if !sc.Scan() || sc.Text() != "go test fuzz v1" || !sc.Scan() {
			t.Fatalf("%s: not a go test fuzz v1 file", name)
		}
		lit, ok := strings.CutPrefix(sc.Text(), "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		s, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil || sc.Scan() {
			t.Fatalf("%s: want one []byte(\"...\") value (%v)", name, err)
		}
		out[name] = []byte(s)
	}
	return out
}

// craftedInputs are the cases where JSON decoders tend to differ, built
// around a valid result and a valid job.
func craftedInputs(t testing.TB) []string {
	t.Helper()
	res, _ := Encode(validResult())
	job, _ := Encode(validJob())
	_, real := benchResult(t)
	realPlain, err := uncompress(real)
	if err != nil {
		t.Fatal(err)
	}
	r, j := string(res), string(job)
	// field replaces a result's key:value pair, or adds it first.
	field := func(doc, key, with string) string {
		i := strings.Index(doc, `"`+key+`":`)
		if i < 0 {
			return "{" + with + "," + doc[1:]
		}
		end := i + len(key) + 3
		depth, inStr := 0, false
		for ; end < len(doc); end++ {
			c := doc[end]
			switch {
			case inStr && c == '\\':
				end++
			case c == '"':
				inStr = !inStr
			case inStr:
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
			if depth < 0 || depth == 0 && !inStr && c == ',' {
				break
			}
		}
		return doc[:i] + with + doc[end:]
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	in := []string{
		r, j, string(realPlain), string(real),
		// One value and white space only.
		" \t\r\n" + r + " \n", r + " {}", r + "}", r + "\n]", r + "x", r + "\x00", r + " 7", r + r, j + "}",
		"\ufeff" + r, r[:len(r)-1], "", " ", "null", "[]", "{}", "0", "-0", "true", `"x"`, "1 2",
		// Duplicate keys: the last wins; objects merge, maps too.
		`{"v":2,` + r[1:],
		`{"job":"9.corp.0",` + r[1:],
		`{"report":{"targets":[{"name":"x"}],"tool":{"name":"t"}},` + r[1:],
		field(r, "observation", `"observation":{"scanned":[9],"source":"s"},"observation":{"open":[]}`),
		field(r, "observation", `"observation":{"scanned":[9,10,11]},"observation":{"scanned":[1]}`),
		field(r, "report", `"report":{"summary":{"byStatus":{"pass":1,"fail":2}},"summary":{"byStatus":{"pass":3}},"targets":[{"name":"gw"}],"findings":[]}`),
		field(r, "report", `"report":{"summary":{"byStatus":{"pass":1,"pass":2,"PASS":3}},"targets":[{"name":"gw"}],"findings":[]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw","score":{"value":1}}],"targets":[{"name":"gw"}],"findings":[]}`),
		field(j, "scan", `"scan":{"timeout":60000000000,"only":["a","b"]},"scan":{"only":["c"]}`),
		// A value, then null: pointers and maps and slices nil again, a
		// time unchanged (its UnmarshalJSON ignores null).
		field(r, "observation", `"observation":{"scanned":[1]},"observation":null`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[]},"report":null`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23Z","started_at":null`),
		field(r, "report", `"report":{"summary":{"byStatus":{"pass":1},"byStatus":null},"targets":[{"name":"gw"}],"targets":null,"findings":[]}`),
		// Unknown fields, and ones tagged "-".
		`{"extra":{"a":[1,{"b":null}],"c":"\u00e9"},` + r[1:],
		field(r, "report", `"report":{"-":1,"Spilled":{},"targets":[{"name":"gw","unknown":[]}],"findings":[]}`),
		// Keys in other cases: matched case-insensitively, an exact match
		// preferred, Unicode folding (K is the Kelvin sign, ſ a long s).
		`{"V":1,"JOB":"3.dmz.1","Zone":"dmz","aGeNt":"dmz-1","TARGET":"gw","Error":"e"}`,
		`{"v":1,"job":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","Error":"e","error":"f","ERROR":"g"}`,
		`{"v":1,"job":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","ERROR":"g","error":"f"}`,
		`{"v":1,"job":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","error":"e","\u017ftarted_at":"2026-01-02T03:04:05Z"}`,
		`{"v":1,"job":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","error":"e","ſtarted_at":"2026-01-02T03:04:05Z"}`,
		field(r, "report", `"report":{"targets":[{"name":"gw","\u212aind":"endpoint","KIND":"node"}],"findings":[]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw","ķind":"endpoint"}],"findings":[]}`),
		`{"v":1,"job":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","error":"e","startedat":"2026-01-02T03:04:05Z","started-at":"2026-01-02T03:04:06Z","STARTED_AT":"2026-01-02T03:04:07Z"}`,
		field(j, "max_attempts", `"maxattempts":7`),
		field(j, "max_attempts", `"max-attempts":7`),
		field(j, "max_attempts", `"MAX_ATTEMPTS":7`),
		field(j, "target", `"target":{"name":"gw","KIND":"node","host":"h","decl":{"ports":"22","ROLE":"dmz","expectedports":[1],"Expected_Ports":[2]}}`),
		// Nulls: no change, or nil.
		field(r, "report", `"report":null`), field(r, "observation", `"observation":null`),
		field(r, "started_at", `"started_at":null`), field(r, "v", `"v":null`), field(r, "target", `"target":null`),
		field(r, "report", `"report":{"targets":null,"findings":null,"summary":{"byStatus":null}}`),
		field(r, "report", `"report":{"targets":[null],"findings":[null]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":null,"severity":null}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":"low","exception":null,"evidence":[null],"checks":[null]}]}`),
		field(r, "observation", `"observation":{"scanned":[null,443],"open":null}`),
		field(j, "target", `"target":{"name":"gw","kind":"node","host":"h","decl":null,"running":null}`),
		field(j, "scan", `"scan":null`), field(j, "issued_at", `"issued_at":null`),
		// Numbers: too big, fractions, exponents, signs.
		field(r, "v", `"v":1e400`), field(r, "v", `"v":99999999999999999999`), field(r, "v", `"v":1.0`),
		field(r, "v", `"v":1e0`), field(r, "v", `"v":-0`), field(r, "v", `"v":01`), field(r, "v", `"v":"1"`),
		field(r, "v", `"v":-9223372036854775809`), field(r, "v", `"v":9223372036854775807`), field(r, "v", `"v":1E+0`),
		field(r, "observation", `"observation":{"scanned":[4e2]}`),
		field(r, "observation", `"observation":{"scanned":[443.0]}`),
		field(r, "observation", `"observation":{"offset":-0.0}`),
		field(j, "round", `"round":18446744073709551616`), field(j, "round", `"round":3.000000000000000000001`),
		field(j, "scan", `"scan":{"timeout":1e19}`), field(j, "scan", `"scan":{"timeout":"1m"}`), field(j, "scan", `"scan":{"timeout":-60000000000}`),
		field(j, "scan", `"scan":{"timeout":60000000000.0}`), field(j, "scan", `"scan":{"timeout":6e10}`),
		field(j, "scan", `"scan":{"timeout":"60000000000"}`), field(j, "scan", `"scan":{"timeout":-0}`),
		field(j, "scan", `"scan":{"timeout":null}`), field(j, "scan", `"scan":{"timeout":9223372036854775808}`),
		field(j, "scan", `"scan":{"Timeout":60000000000,"timeout":120000000000}`),
		field(j, "target", `"target":{"name":"gw","kind":"node","host":"h","port":1e400}`),
		// Types' own text methods: severities are names, not numbers.
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":4}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":"HIGH"}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":""}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":"none"}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":"h\u0069gh"}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":true}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":"pass","severity":{}}]}`),
		field(r, "report", `"report":{"targets":[{"name":"gw"}],"findings":[{"rule":"R","target":"gw","status":7,"severity":"low"}]}`),
		field(r, "report", `"report":{"summary":{"byStatus":{"pass":1.5}},"targets":[{"name":"gw"}],"findings":[]}`),
		field(r, "report", `"report":{"summary":{"byStatus":{"\u0070ass":1,"":2}},"targets":[{"name":"gw"}],"findings":[]}`),
		// Times: RFC 3339 only, as time.Time's UnmarshalJSON reads it.
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23Z"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23.659958601+02:00"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23-00:00"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23.1234567891Z"`),
		field(r, "started_at", `"started_at":"2026-12-03t09:15:23z"`),
		field(r, "started_at", `"started_at":"2026-12-03 09:15:23Z"`),
		field(r, "started_at", `"started_at":"2026-12-03T24:00:00Z"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23+24:00"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23+23:59"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23,5Z"`),
		field(r, "started_at", `"started_at":"0000-01-01T00:00:00Z"`),
		field(r, "started_at", `"started_at":"10000-01-01T00:00:00Z"`),
		field(r, "started_at", `"started_at":"2026-12-03T09:15:23\u005a"`),
		field(r, "started_at", `"started_at":""`), field(r, "started_at", `"started_at":0`),
		field(r, "started_at", `"started_at":{}`), field(r, "started_at", `"started_at":"2026-02-30T00:00:00Z"`),
		// Strings: escapes, invalid UTF-8, lone surrogates, NUL.
		field(r, "agent", `"agent":"dmz\u002d1"`),
		field(r, "version", "\"version\":\"\xff\xfe \xc3\x28 \xed\xa0\x80\""),
		field(r, "version", `"version":"\ud800 \udc00 \ud83d\ude00 \u0000 \/"`),
		field(r, "version", "\"version\":\"a\tb\""), field(r, "version", `"version":"\x"`),
		`{"\u0076":1,"jo\u0062":"3.dmz.1","zone":"dmz","agent":"dmz-1","target":"gw","error":"e"}`,
		field(r, "report", "\"report\":{\"summary\":{\"byStatus\":{\"\xffpass\":1,\"\xfe\":2}},\"targets\":[{\"name\":\"gw\"}],\"findings\":[]}"),
		"{\"v\":1,\"job\":\"3.dmz.1\",\"zone\":\"dmz\",\"agent\":\"dmz-1\",\"target\":\"gw\",\"error\":\"e\",\"\xffx\":1}",
		// Nesting: encoding/json refuses more than 10,000 levels.
		`{"extra":` + deep(9998) + `,` + r[1:], `{"extra":` + deep(9999) + `,` + r[1:], `{"extra":` + deep(10000) + `,` + r[1:],
		deep(10000), deep(10001),
		// Wrong types.
		field(r, "report", `"report":[]`), field(r, "observation", `"observation":"x"`),
		field(r, "report", `"report":{"targets":{},"findings":[]}`), field(j, "target", `"target":[]`),
	}
	return in
}

// TestDecodeIsEncodingJSON: every message type decodes the fuzz corpus
// and inputs made where decoders tend to differ exactly as encoding/json
// does (the same value, or refused), and DecodeResult and DecodeJob take
// the same decisions.
func TestDecodeIsEncodingJSON(t *testing.T) {
	for name, data := range corpus(t) {
		t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(t *testing.T) { checkSameDecode(t, data) })
	}
	for i, s := range craftedInputs(t) {
		t.Run(fmt.Sprintf("crafted-%d", i), func(t *testing.T) { checkSameDecode(t, []byte(s)) })
	}
}

// FuzzDecodeIsEncodingJSON: what every message type decodes, it decodes
// as encoding/json does (FuzzDecodeResult, FuzzDecodeJob and
// FuzzDecodeOthers check it too, from their own corpora).
func FuzzDecodeIsEncodingJSON(f *testing.F) {
	for _, s := range craftedInputs(f) {
		if len(s) <= 2048 { // the mutator is slow on larger ones (TestDecodeIsEncodingJSON has them)
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
	})
}
