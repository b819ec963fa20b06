package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// BenchmarkStartupCommands runs the commands whose whole cost is start-up,
// in process: what `rampart version` and `rampart rules list` do after Go
// has initialised the packages (scripts/bench/startup.sh times the
// processes, initialisation included, against a hello-world binary).
func BenchmarkStartupCommands(b *testing.B) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"version", []string{"version"}, "rampart "},
		{"rules-list", []string{"rules", "list"}, "TLS-004"},
		{"rules-list-json", []string{"rules", "list", "--format", "json"}, `"TLS-004"`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var out, errs bytes.Buffer
				if code := run(context.Background(), tc.args, &out, &errs, defaultDeps()); code != ExitOK || !strings.Contains(out.String(), tc.want) {
					b.Fatalf("%v: exit %d, %q %q", tc.args, code, out.String(), errs.String())
				}
			}
		})
	}
}
