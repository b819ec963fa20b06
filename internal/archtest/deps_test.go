package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// testOnly are packages that only tests may use: the OpenID Connect
// provider tests sign in through, and the browser driver.
var testOnly = []string{"github.com/zitadel/", "github.com/chromedp/", module + "/internal/server/oidctest"}

// The rampart binary carries none of the test-only dependencies.
func TestBinaryHasNoTestOnlyDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/rampart")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/rampart: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("only %d dependencies listed; is go list broken?", len(deps))
	}
	for _, d := range deps {
		for _, p := range testOnly {
			if strings.HasPrefix(d, p) {
				t.Errorf("the rampart binary depends on %s, which only tests may use", d)
			}
		}
	}
}
