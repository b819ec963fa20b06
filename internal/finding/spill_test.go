package finding

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// fill sets every field of v (recursively) to a value derived from seed,
// so a field the codec forgets comes back different.
func fill(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *seed))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), seed)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), seed)
		}
	default:
		panic("fill: kind " + v.Kind().String() + ": teach the codec and this test about it")
	}
}

// Every field of a finding (and its evidence and exception) survives the
// spill's encoding, nil and empty slices stay apart, and a string seen
// before comes back from the table.
func TestCodecRoundTrip(t *testing.T) {
	seed := 0
	var full Finding
	fill(reflect.ValueOf(&full).Elem(), &seed)
	cases := []Finding{
		full,
		full, // its strings now come from the table
		{RuleID: "TLS-001", Checks: []string{}, Evidence: []Evidence{}, References: []string{}},
		{},
	}
	c := newCodec(4)
	var b []byte
	for i := range cases {
		b = c.encode(b, &cases[i])
	}
	if len(c.strs) != 4 {
		t.Errorf("string table holds %d strings, want its limit 4", len(c.strs))
	}
	r := reader{c: c, b: b}
	for i, want := range cases {
		var got Finding
		if err := r.decode(&got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if len(r.b) != 0 {
		t.Errorf("%d bytes left", len(r.b))
	}
	// Truncated input is an error, never a panic.
	for n := range len(b) {
		r := reader{c: c, b: b[:n]}
		for range cases {
			var f Finding
			if r.decode(&f) != nil {
				break
			}
		}
	}
}

// A spilled report reads back the same findings, summary and scores as the
// same report held in memory, whatever order the targets were added in.
func TestSpillMatchesMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := Statuses()
	var targets []TargetInfo
	var perTarget [][]Finding
	for ti := range 40 {
		name := fmt.Sprintf("https://10.0.%d.%d:9443/", ti%3, ti)
		targets = append(targets, TargetInfo{Name: name})
		var fs []Finding
		for k := range 30 {
			rule := fmt.Sprintf("R-%03d", rng.IntN(12))
			fs = append(fs, Finding{
				RuleID: rule, Target: name, Title: "title of " + rule,
				Status: statuses[rng.IntN(len(statuses))], Severity: Severity(rng.IntN(5)),
				Message:     fmt.Sprintf("message %d", rng.IntN(5)),
				Evidence:    []Evidence{{Source: name, Path: "tls.versions", Value: fmt.Sprint(k)}},
				Fingerprint: fmt.Sprintf("%032x", rng.Uint64()),
			})
		}
		perTarget = append(perTarget, fs)
	}
	mem := &Report{Targets: append([]TargetInfo(nil), targets...)}
	for _, fs := range perTarget {
		mem.Findings = append(mem.Findings, fs...)
	}
	mem.Finalize()

	sp, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spilled := &Report{Targets: append([]TargetInfo(nil), targets...), Spilled: sp}
	defer spilled.Close()
	for _, i := range rng.Perm(len(perTarget)) {
		fs := append([]Finding(nil), perTarget[i]...)
		rng.Shuffle(len(fs), func(a, b int) { fs[a], fs[b] = fs[b], fs[a] })
		if err := sp.Add(fs); err != nil {
			t.Fatal(err)
		}
	}
	spilled.Finalize()
	if spilled.Spilled == nil {
		t.Fatal("Finalize loaded the spill")
	}
	if !reflect.DeepEqual(spilled.Summary, mem.Summary) || !reflect.DeepEqual(spilled.Targets, mem.Targets) {
		t.Fatalf("summary or targets differ:\n%+v\n%+v", spilled.Summary, mem.Summary)
	}
	for _, th := range Severities() {
		if got, want := spilled.Failing(th), mem.Failing(th); !reflect.DeepEqual(got, want) {
			t.Errorf("Failing(%v): %d findings, want %d", th, len(got), len(want))
		}
	}
	if spilled.Count() != len(mem.Findings) {
		t.Errorf("Count %d, want %d", spilled.Count(), len(mem.Findings))
	}
	if err := spilled.Load(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spilled.Findings, mem.Findings) {
		t.Error("findings read back differ from the report held in memory")
	}
	if spilled.Err() != nil {
		t.Error(spilled.Err())
	}
}

// Two additions of one target's findings are sorted as a whole, as in
// memory.
func TestSpillSameTargetTwice(t *testing.T) {
	sp, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := []Finding{{Target: "t", RuleID: "R2"}, {Target: "u", RuleID: "R1"}}
	b := []Finding{{Target: "t", RuleID: "R1"}}
	_ = sp.Add(append([]Finding(nil), a...))
	_ = sp.Add(append([]Finding(nil), b...))
	r := &Report{Targets: []TargetInfo{{Name: "u"}, {Name: "t"}}, Spilled: sp}
	r.Finalize()
	mem := &Report{Targets: []TargetInfo{{Name: "u"}, {Name: "t"}}, Findings: append(append([]Finding(nil), a...), b...)}
	mem.Finalize()
	if r.Spilled != nil || !reflect.DeepEqual(r, mem) {
		t.Errorf("got %+v\nwant %+v", r, mem)
	}
}
