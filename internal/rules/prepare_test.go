package rules_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/rampart-sec/rampart/internal/rules"
)

// Judging while Prepare compiles the same checks (a scan whose first
// target finishes before preparing does) gives the verdicts a set never
// prepared gives, and -race finds nothing shared unsafely.
func TestPrepareDuringJudgeSameVerdicts(t *testing.T) {
	for _, name := range []string{"endpoint-https-weak", "endpoint-ssh-weak"} {
		in := endpointInput(t, name)
		want := rules.Judge(loadBuiltin(t).Rules(), in)
		set := loadBuiltin(t)
		var wg sync.WaitGroup
		wg.Go(func() {
			rules.Prepare(context.Background(), set.Rules(), in.Offers, []string{"tls", "http", "ssh"})
		})
		got := rules.Judge(set.Rules(), in)
		wg.Wait()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: verdicts differ when judged while prepared", name)
		}
		if again := rules.Judge(set.Rules(), in); !reflect.DeepEqual(again, want) {
			t.Errorf("%s: verdicts differ when judged after being prepared", name)
		}
	}
}
