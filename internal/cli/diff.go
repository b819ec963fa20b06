package cli

import (
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/diff"
	"github.com/rampart-sec/rampart/internal/finding"
)

type diffOpts struct {
	format string
	output string
}

func (a *app) diffCmd() *cobra.Command {
	o := &diffOpts{}
	cmd := &cobra.Command{
		Use:   "diff A.json B.json",
		Short: "Compare two JSON reports: what each vantage point reaches and judges differently",
		Long: `Compare two rampart JSON reports, typically of one inventory scanned from two
vantage points (rampart scan @inventory.yaml --role dmz -f json, then the same
with --role internal from the internal zone). It lists the targets only one
side reached, the open ports each side saw on every node, and the findings
whose status differs. Targets are matched by name: give the nodes names in the
inventory when the zones reach them by different addresses.

Exit codes: 0 the reports are identical in these respects; 1 they differ;
2 usage error or a file that is not a rampart JSON report.`,
		Example: `  rampart scan @inventory.yaml --role dmz -f json -o dmz.json
  rampart scan @inventory.yaml --role internal -f json -o internal.json
  rampart diff dmz.json internal.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("diff needs two reports, A.json and B.json (got %d argument(s))", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return a.runDiff(o, args[0], args[1]) },
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(diff.Formats(), ", "))
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to this file instead of standard output")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(diff.Formats()))
	return cmd
}

func (a *app) runDiff(o *diffOpts, pathA, pathB string) error {
	if o.format != "text" && o.format != "json" {
		return usageErr("--format %q: want one of %s", o.format, strings.Join(diff.Formats(), ", "))
	}
	ra, err := readReport(pathA)
	if err != nil {
		return err
	}
	rb, err := readReport(pathB)
	if err != nil {
		return err
	}
	res := diff.Compare(ra, rb, pathA, pathB)
	if err := writeOutput(o.output, a.stdout, func(w io.Writer) error { return diff.Render(w, res, o.format) }); err != nil {
		return exitCode(ExitUsage, err)
	}
	if !res.Identical {
		return exitCode(ExitFindings, nil)
	}
	return nil
}

func readReport(path string) (*finding.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	defer f.Close()
	r, err := diff.Read(f, path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return r, nil
}
