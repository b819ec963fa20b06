package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// multitool finds the SARIF multitool's validator: $RAMPART_SARIF_MULTITOOL,
// else where scripts/fetch-sarif-multitool.sh (run by .ci/run) installs it.
func multitool(t *testing.T) string {
	t.Helper()
	p := os.Getenv("RAMPART_SARIF_MULTITOOL")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "rampart", "sarif-multitool-5.7.0", "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "SARIF multitool not found at %s (run scripts/fetch-sarif-multitool.sh)", p)
	}
	return p
}

// sarifLog is what the test reads of rampart's SARIF.
type sarifLog struct {
	Runs []struct {
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					FullyQualifiedName string `json:"fullyQualifiedName"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

var validatorLine = regexp.MustCompile(`\): (error|warning) ([A-Z]+[0-9]+): runs\[0\]\.results\[([0-9]+)\]\.locations\[([0-9]+)\]`)

// TestSARIFMultitool: the SARIF of a real scan (a WSO2 home, the weak
// nginx, this host) passes Microsoft's SARIF multitool with GitHub code
// scanning's rules on: no error at all, and a missing-region warning only
// where the facts know no line for that place.
func TestSARIFMultitool(t *testing.T) {
	mt := multitool(t)
	testenv.Listening(t, "127.0.0.1:8443", "the weak nginx eval target")
	apim := absPath(t, fixture(t, "apim-4.1.0"))
	dir := t.TempDir()
	sarif := filepath.Join(dir, "r.sarif")
	args := []string{"scan", apim, "127.0.0.1:8443", "local", "--fail-on", "none"}
	if r := runCLI(t, nil, false, append(args, "-f", "sarif", "-o", sarif)...); r.code != ExitOK {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, nil, false, append(args, "-f", "json")...)
	if r.code != ExitOK {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Findings []struct {
			Fingerprint string `json:"fingerprint"`
			Evidence    []struct {
				Source string `json:"source"`
				Line   int    `json:"line"`
			} `json:"evidence"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// Lines the facts know, by finding: source -> has a line.
	lines := map[string]map[string]bool{}
	for _, f := range rep.Findings {
		lines[f.Fingerprint] = map[string]bool{}
		for _, e := range f.Evidence {
			if e.Line > 0 {
				lines[f.Fingerprint][strings.TrimPrefix(filepath.ToSlash(e.Source), "/")] = true
			}
		}
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(mustRead(t, sarif)), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if got := run.OriginalURIBaseIDs["%SRCROOT%"].URI; got != "file://"+apim+"/" {
		t.Errorf("%%SRCROOT%% is %q, want file://%s/", got, apim)
	}

	cmd := exec.Command(mt, "validate", "-c", filepath.Join("testdata", "sarif-multitool.xml"),
		"--rule-kind", "Sarif;Ghas", "--level", "Error;Warning", "-o", filepath.Join(dir, "validation.sarif"), sarif)
	cmd.Env = append(os.Environ(), "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", "DOTNET_CLI_TELEMETRY_OPTOUT=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("multitool: %v\n%s", err, out)
	}
	warnings := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, ": error ") {
			t.Errorf("multitool error: %s", line)
			continue
		}
		if !strings.Contains(line, ": warning ") || strings.Contains(line, "WRN999") { // WRN999: SARIF2006 is off on purpose
			continue
		}
		m := validatorLine.FindStringSubmatch(line)
		if m == nil || (m[2] != "GH1003" && m[2] != "SARIF2017") {
			t.Errorf("multitool warning other than a missing region: %s", line)
			continue
		}
		warnings++
		ri, _ := strconv.Atoi(m[3])
		li, _ := strconv.Atoi(m[4])
		res := run.Results[ri]
		art := res.Locations[li].PhysicalLocation.ArtifactLocation
		if lines[res.PartialFingerprints["rampartFingerprint/v1"]][art.URI] {
			t.Errorf("%s: no region for %s although the facts know its line", res.RuleID, art.URI)
		}
	}
	if warnings == 0 {
		t.Log("no missing-region warnings")
	}
	// What the validator cannot tell: file results are relative to a base,
	// endpoint results carry the endpoint as a logical location, and every
	// line the facts know is a region.
	var endpoint, withRegion bool
	for _, res := range run.Results {
		for _, l := range res.Locations {
			a := l.PhysicalLocation.ArtifactLocation
			if strings.HasPrefix(a.URI, "/") || strings.HasPrefix(a.URI, "file:") {
				t.Errorf("%s: absolute URI %s", res.RuleID, a.URI)
			}
			if a.URI == "endpoint/127.0.0.1:8443" {
				endpoint = len(l.LogicalLocations) == 1 && l.LogicalLocations[0].FullyQualifiedName == "127.0.0.1:8443"
			}
			if a.URIBaseID == "%SRCROOT%" && l.PhysicalLocation.Region != nil {
				withRegion = true
			}
		}
	}
	if !endpoint || !withRegion {
		t.Errorf("endpoint result with its logical location: %v; file result with a line: %v", endpoint, withRegion)
	}
}
