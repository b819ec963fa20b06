package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

type jsonReport struct {
	Targets []struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	} `json:"targets"`
	Findings []struct {
		Rule        string `json:"rule"`
		Target      string `json:"target"`
		Fingerprint string `json:"fingerprint"`
	} `json:"findings"`
}

func scanJSON(t *testing.T, args ...string) (jsonReport, string) {
	t.Helper()
	r := runCLI(t, nil, false, append([]string{"scan", "-f", "json"}, args...)...)
	if r.code == ExitUsage {
		t.Fatalf("scan %v: exit 2: %s", args, r.stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("scan %v: %v\n%s", args, err, r.stdout)
	}
	return rep, r.stdout
}

func fingerprints(rep jsonReport) map[string]string {
	m := map[string]string{}
	for _, f := range rep.Findings {
		m[f.Rule] = f.Fingerprint
	}
	return m
}

// TestDirectoryFingerprintOverSpellings: a product home scanned as a
// relative path, with ./ and a trailing slash, or absolute, is one target:
// same name (its cleaned absolute path), same fingerprints, and `rampart
// diff` finds the reports identical.
func TestDirectoryFingerprintOverSpellings(t *testing.T) {
	apim := absPath(t, fixture(t, "apim-4.1.0"))
	t.Chdir(filepath.Dir(apim))
	base := filepath.Base(apim)
	dir := t.TempDir()
	var first map[string]string
	var firstFile string
	for i, spelling := range []string{base, "./" + base + "/", base + "//", "../" + filepath.Base(filepath.Dir(apim)) + "/" + base, apim} {
		rep, out := scanJSON(t, spelling, "--only", "SEC-001,KEY-001,LOG-003")
		if len(rep.Targets) != 1 || rep.Targets[0].Name != apim || rep.Targets[0].ID != apim {
			t.Fatalf("%q: targets %+v, want name and id %s", spelling, rep.Targets, apim)
		}
		fp := fingerprints(rep)
		file := filepath.Join(dir, "r"+string(rune('0'+i))+".json")
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstFile = fp, file
			continue
		}
		for rule, f := range first {
			if fp[rule] != f {
				t.Errorf("%q: %s fingerprint %s, want %s", spelling, rule, fp[rule], f)
			}
		}
		if r := runCLI(t, nil, false, "diff", firstFile, file); r.code != ExitOK {
			t.Errorf("diff of %q against the first spelling: exit %d\n%s", spelling, r.code, r.stdout)
		}
	}
}

// TestEndpointFingerprintOverSpellings: host:port, tls://host:port and
// https://host:port/ of the weak nginx give the TLS rules one fingerprint,
// and `rampart diff` matches the reports by host:port.
func TestEndpointFingerprintOverSpellings(t *testing.T) {
	testenv.Listening(t, "127.0.0.1:8443", "the weak nginx eval target")
	dir := t.TempDir()
	var first map[string]string
	var firstFile string
	for i, spelling := range []string{"127.0.0.1:8443", "tls://127.0.0.1:8443", "https://127.0.0.1:8443/", "HTTPS://127.0.0.1:8443"} {
		rep, out := scanJSON(t, spelling, "--only", "TLS-002,TLS-008,KEY-002")
		if len(rep.Targets) != 1 || rep.Targets[0].ID != "127.0.0.1:8443" || rep.Targets[0].Name != spelling {
			t.Fatalf("%q: targets %+v", spelling, rep.Targets)
		}
		fp := fingerprints(rep)
		file := filepath.Join(dir, "e"+string(rune('0'+i))+".json")
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstFile = fp, file
			continue
		}
		for rule, f := range first {
			if fp[rule] != f {
				t.Errorf("%q: %s fingerprint %s, want %s", spelling, rule, fp[rule], f)
			}
		}
		if r := runCLI(t, nil, false, "diff", firstFile, file); r.code != ExitOK {
			t.Errorf("diff 127.0.0.1:8443 against %q: exit %d\n%s", spelling, r.code, r.stdout)
		}
	}
}
