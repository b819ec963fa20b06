package pkgdb

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// rpmVerCmpCases are rpm's own rpmvercmp test cases (tests/rpmvercmp.at)
// and a few from distribution versions.
var rpmVerCmpCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
	{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1", "2.0", 1},
	{"2.0.1a", "2.0.1a", 0}, {"2.0.1a", "2.0.1", 1}, {"2.0.1", "2.0.1a", -1},
	{"5.5p1", "5.5p1", 0}, {"5.5p1", "5.5p2", -1}, {"5.5p2", "5.5p1", 1},
	{"5.5p10", "5.5p10", 0}, {"5.5p1", "5.5p10", -1}, {"5.5p10", "5.5p1", 1},
	{"10xyz", "10.1xyz", -1}, {"10.1xyz", "10xyz", 1},
	{"xyz10", "xyz10", 0}, {"xyz10", "xyz10.1", -1}, {"xyz10.1", "xyz10", 1},
	{"xyz.4", "xyz.4", 0}, {"xyz.4", "8", -1}, {"8", "xyz.4", 1}, {"xyz.4", "2", -1}, {"2", "xyz.4", 1},
	{"5.5p2", "5.6p1", -1}, {"5.6p1", "5.5p2", 1}, {"5.6p1", "6.5p1", -1}, {"6.5p1", "5.6p1", 1},
	{"6.0.rc1", "6.0", 1}, {"6.0", "6.0.rc1", -1},
	{"10b2", "10a1", 1}, {"10a2", "10b2", -1},
	{"1.0aa", "1.0aa", 0}, {"1.0a", "1.0aa", -1}, {"1.0aa", "1.0a", 1},
	{"10.0001", "10.0001", 0}, {"10.0001", "10.1", 0}, {"10.1", "10.0001", 0},
	{"10.0001", "10.0039", -1}, {"10.0039", "10.0001", 1},
	{"4.999.9", "5.0", -1}, {"5.0", "4.999.9", 1},
	{"20101121", "20101121", 0}, {"20101121", "20101122", -1}, {"20101122", "20101121", 1},
	{"2_0", "2_0", 0}, {"2.0", "2_0", 0}, {"2_0", "2.0", 0},
	{"a", "a", 0}, {"a+", "a+", 0}, {"a+", "a_", 0}, {"a_", "a+", 0},
	{"+a", "+a", 0}, {"+a", "_a", 0}, {"_a", "+a", 0}, {"+_", "+_", 0}, {"_+", "+_", 0}, {"_+", "_", 0}, {"+", "_", 0},
	{"1.0~rc1", "1.0~rc1", 0}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0~rc1", 1},
	{"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc2", "1.0~rc1", 1},
	{"1.0~rc1~git123", "1.0~rc1~git123", 0}, {"1.0~rc1~git123", "1.0~rc1", -1}, {"1.0~rc1", "1.0~rc1~git123", 1},
	{"1.0^", "1.0^", 0}, {"1.0^", "1.0", 1}, {"1.0", "1.0^", -1},
	{"1.0^git1", "1.0^git1", 0}, {"1.0^git1", "1.0", 1}, {"1.0", "1.0^git1", -1},
	{"1.0^git1", "1.0^git2", -1}, {"1.0^git2", "1.0^git1", 1},
	{"1.0^git1", "1.01", -1}, {"1.01", "1.0^git1", 1},
	{"1.0^20160101", "1.0^20160101", 0}, {"1.0^20160101", "1.0.1", -1}, {"1.0.1", "1.0^20160101", 1},
	{"1.0^20160101^git1", "1.0^20160101^git1", 0}, {"1.0^20160102", "1.0^20160101^git1", 1}, {"1.0^20160101^git1", "1.0^20160102", -1},
	{"1.0~rc1^git1", "1.0~rc1^git1", 0}, {"1.0~rc1^git1", "1.0~rc1", 1}, {"1.0~rc1", "1.0~rc1^git1", -1},
	{"1.0^git1~pre", "1.0^git1~pre", 0}, {"1.0^git1", "1.0^git1~pre", 1}, {"1.0^git1~pre", "1.0^git1", -1},
	// Distribution releases.
	{"427.13.1.el9_4", "362.8.1.el9_3", 1},
	{"27.el9", "24.el9", 1},
	{"12.el9_4.1", "12.el9", 1},
	{"1.module+el9.4.0+21731+46b5c5c9", "1.module+el9.3.0+20000+aaaaaaaa", 1},
	{"150500.5.27.1", "150500.5.8.1", 1},
	{"", "1", -1}, {"", "~1", 1}, {"", "", 0},
}

func TestRPMVerCmp(t *testing.T) {
	for _, c := range rpmVerCmpCases {
		if got := RPMVerCmp(c.a, c.b); got != c.want {
			t.Errorf("RPMVerCmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestRPMVerCmpAgainstRPM asks the real rpm (rpm.vercmp in its Lua) for
// every case and for pairs built from awkward pieces, when rpm is
// installed.
func TestRPMVerCmpAgainstRPM(t *testing.T) {
	bin := testenv.Tool(t, "rpm", "apt-get install rpm; without it only the table is checked")
	// rpm.vercmp parses its arguments as EVRs: a string without "-" or
	// ":" is a bare version, compared with rpmvercmp; an empty one is
	// refused.
	type pair struct{ a, b string }
	var pairs []pair
	add := func(a, b string) {
		if a != "" && b != "" && !strings.ContainsAny(a+b, "-:") {
			pairs = append(pairs, pair{a, b})
		}
	}
	for _, c := range rpmVerCmpCases {
		add(c.a, c.b)
	}
	pieces := []string{"", "0", "1", "01", "10", "a", "b", "Z", ".", "~", "^", "_", "+", "~a", "^1", "1a", "a1", "2.0", "rc1"}
	for _, x := range pieces {
		for _, y := range pieces {
			for _, z := range []string{"", "1", "a", "~", "^"} {
				add(x+y, y+z)
				add("1"+x+z, "1"+y)
			}
		}
	}
	// rpm's Lua print adds no newline: answers are joined by spaces.
	var lua strings.Builder
	lua.WriteString("local r = {}\n")
	for _, p := range pairs {
		fmt.Fprintf(&lua, "r[#r+1] = rpm.vercmp(%q, %q)\n", p.a, p.b)
	}
	lua.WriteString("print(table.concat(r, \" \"))\n")
	out, err := exec.Command(bin, "--eval", "%{lua:\n"+lua.String()+"}").Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(pairs) {
		t.Fatalf("rpm gave %d answers for %d pairs", len(lines), len(pairs))
	}
	for i, p := range pairs {
		want, err := strconv.Atoi(strings.TrimSpace(lines[i]))
		if err != nil {
			t.Fatalf("rpm answer %q", lines[i])
		}
		if got := RPMVerCmp(p.a, p.b); got != want {
			t.Errorf("RPMVerCmp(%q, %q) = %d, rpm says %d", p.a, p.b, got, want)
		}
	}
	t.Logf("%d pairs agree with %s", len(pairs), bin)
}

func TestEVRCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1:1.0-1", "2.0-1", 1},
		{"0:1.0-1", "1.0-1", 0},
		{"1.0-1", "1.0-1.el9", -1},
		{"3.0.7-27.el9", "1:3.0.7-24.el9", -1},
		{"1:3.0.7-27.el9", "1:3.0.7-24.el9", 1},
		{"2:8.2.2637-20.el9_1", "2:8.2.2637-20.el9_1", 0},
		{"1.0~rc1-1", "1.0-1", -1},
		{"5.14.0-427.13.1.el9_4", "5.14.0-427.13.1.el9_4", 0},
	} {
		a, _ := ParseEVR(c.a)
		b, _ := ParseEVR(c.b)
		if got := a.Compare(b); got != c.want {
			t.Errorf("%s vs %s = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	e, ok := ParseEVR("12:1.2-3-4.el9")
	if !ok || e != (EVR{12, "1.2-3", "4.el9"}) || e.String() != "12:1.2-3-4.el9" {
		t.Errorf("ParseEVR: %+v %v %q", e, ok, e.String())
	}
	if _, ok := ParseEVR("x:1.0-1"); ok {
		t.Error("a non-numeric epoch parsed")
	}
}

// FuzzRPMVerCmp: no panic, and the order is an order: reflexive and
// antisymmetric.
func FuzzRPMVerCmp(f *testing.F) {
	for _, c := range rpmVerCmpCases {
		f.Add(c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := RPMVerCmp(a, b), RPMVerCmp(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("RPMVerCmp(%q, %q) = %d but reversed %d", a, b, ab, ba)
		}
		if RPMVerCmp(a, a) != 0 {
			t.Fatalf("RPMVerCmp(%q, itself) != 0", a)
		}
		ea, _ := ParseEVR(a)
		eb, _ := ParseEVR(b)
		if ea.Compare(eb) != -eb.Compare(ea) {
			t.Fatalf("EVR compare of %q and %q not antisymmetric", a, b)
		}
	})
}
