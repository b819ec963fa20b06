package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/finding"
)

// baseVersion is the release this tree is heading for.
const baseVersion = "0.1.0"

// version returns the module version of an installed build, or the base
// version with the VCS revision for a build from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return baseVersion
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return baseVersion + "-dev+" + s.Value[:12]
		}
	}
	return baseVersion + "-dev"
}

func tool() finding.Tool {
	return finding.Tool{Name: "rampart", Version: version(), URI: "https://github.com/rampart-sec/rampart"}
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print rampart's version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(a.stdout, versionLine())
		},
	}
}

// versionLine is what `rampart version` and `rampart --version` print.
func versionLine() string {
	return fmt.Sprintf("rampart %s (%s, %s/%s)", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
