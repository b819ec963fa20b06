package scan

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Equal messages of a run's findings end up sharing one string; the
// messages themselves are unchanged.
func TestMessagesInterned(t *testing.T) {
	m := messages{}
	mk := func(s string) string { return strings.Clone(s) }
	a := []finding.Finding{{Message: mk("an endpoint offers no file evidence")}, {Message: mk("other")}}
	b := []finding.Finding{{Message: mk("an endpoint offers no file evidence")}, {Message: mk("other")}, {Message: ""}}
	m.intern(a)
	m.intern(b)
	for i := range 2 {
		if a[i].Message != b[i].Message {
			t.Fatalf("message changed: %q, %q", a[i].Message, b[i].Message)
		}
		if unsafe.StringData(a[i].Message) != unsafe.StringData(b[i].Message) {
			t.Errorf("%q: two copies", a[i].Message)
		}
	}
	if b[2].Message != "" || len(m) != 3 {
		t.Errorf("empty message %q, %d kept", b[2].Message, len(m))
	}
}
