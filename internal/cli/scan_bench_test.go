package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// BenchmarkScanEndpoint runs `rampart scan URL -f json` in process against
// the eval targets: everything a scan of one endpoint does after Go has
// initialised the packages (probing, loading and judging the rules,
// rendering). scripts/bench/tls.sh and ssh.sh time the processes.
func BenchmarkScanEndpoint(b *testing.B) {
	for _, tc := range []struct{ name, url, addr string }{
		{"tls-weak", "tls://127.0.0.1:8443", "127.0.0.1:8443"},
		{"https-weak", "https://127.0.0.1:8443/", "127.0.0.1:8443"},
		{"tls-strong", "tls://127.0.0.1:9443", "127.0.0.1:9443"},
		{"tls-dhe", "tls://127.0.0.1:8444", "127.0.0.1:8444"},
		{"ssh-weak", "ssh://127.0.0.1:2222", "127.0.0.1:2222"},
		{"ssh-strong", "ssh://127.0.0.1:2223", "127.0.0.1:2223"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			testenv.Listening(b, tc.addr, "the eval targets (../shared/eval/targets/up.sh)")
			b.ReportAllocs()
			for b.Loop() {
				var out, errs bytes.Buffer
				code := run(context.Background(), []string{"scan", tc.url, "-f", "json", "--fail-on", "none"}, &out, &errs, defaultDeps())
				if code != ExitOK || !strings.Contains(out.String(), `"findings"`) {
					b.Fatalf("exit %d: %s", code, errs.String())
				}
			}
		})
	}
}
