package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/fix"
)

const (
	restart  = "restart WSO2 Micro Integrator for the change to take effect"
	moved    = "moved into Secure Vault: monitoring.ei_analytics.password, server.blocking.password, user_store.properties.ConnectionPassword"
	left     = "left in clear text: keystore.primary.key_password, keystore.primary.password, truststore.password: WSO2's public default values, for KEY-007's fix to replace with new random ones (encrypting a public default would only hide it); KEY-007's fix needs the input below"
	keystore = "at start-up the product asks for the keystore password (repository/resources/security/wso2carbon.jks); give it on the console, or write it to /opt/wso2mi-4.3.0/password-tmp (read and deleted at start)"
)

// plan is the shape of a Micro Integrator dry run: rules sharing clauses
// (SEC-001 and SEC-005 word for word, TLS-002 and TLS-011), a to-do every
// fixed rule has, a read-only file, a mode change and a new binary file.
func plan() *fix.Plan {
	res := func(rule string, st fix.Status, details []string, inputs, todo []string) fix.Result {
		return fix.Result{Rule: rule, Target: "/opt/wso2mi-4.3.0", Status: st, Details: details, Summary: strings.Join(details, "; "), Inputs: inputs, Todo: todo}
	}
	sec := func(rule string) fix.Result {
		return res(rule, fix.NeedsInput, []string{moved, left}, []string{"--hostname NAME"}, []string{keystore})
	}
	return &fix.Plan{
		Results: []fix.Result{
			res("HTTP-001", fix.Fixed, []string{"Server: WebServer on http.origin-server"}, nil, []string{restart}),
			sec("SEC-001"),
			res("SEC-002", fix.Fixed, []string{"[super_admin] password generated and kept only in Secure Vault", "management user admin: new password"}, nil, []string{keystore, restart}),
			sec("SEC-005"),
			res("TLS-002", fix.Fixed, []string{"TLSv1.2 and TLSv1.3 only on internal-api, mi-https"}, nil, []string{restart}),
			res("TLS-011", fix.Fixed, []string{"TLSv1.2 and TLSv1.3 only on internal-api, mi-https"}, nil, []string{restart}),
		},
		Changes: []*fix.Change{
			{Target: "/opt/wso2mi-4.3.0", Root: "/opt/wso2mi-4.3.0", Path: "conf/deployment.toml", Action: fix.Edit, Mode: 0o444, ModeBefore: 0o444,
				Rules: []string{"HTTP-001", "SEC-001"}, Before: []byte("[server]\nhostname = \"localhost\"\n"), After: []byte("[server]\nhostname = \"mi.example.com\"\n")},
			{Target: "/opt/wso2mi-4.3.0", Root: "/opt/wso2mi-4.3.0", Path: "conf/security/secret-conf.properties", Action: fix.Chmod, Mode: 0o640, ModeBefore: 0o644,
				Rules: []string{"SEC-005"}, Before: []byte("x\n"), After: []byte("x\n")},
			{Target: "/opt/wso2mi-4.3.0", Root: "/opt/wso2mi-4.3.0", Path: "repository/resources/security/mi.p12", Action: fix.Create, Binary: true, Mode: 0o600,
				Rules: []string{"KEY-001"}, After: []byte{0x30}, Summary: "new PKCS#12 keystore"},
		},
	}
}

func render(t *testing.T, p *fix.Plan, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Diff(&b, p, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func summaryOf(out string) string { return out[strings.Index(out, "Summary ("):] }

// TestSummaryWrapsAndSaysSharedClausesOnce: at 72 and 100 columns every
// summary line fits; each clause starts a line of its own; SEC-005, whose
// lines are SEC-001's, says "same as SEC-001"; a long to-do SEC-002
// shares with SEC-001 is shortened to one line pointing to it; the
// restart every fixed rule needs is said once.
func TestSummaryWrapsAndSaysSharedClausesOnce(t *testing.T) {
	for _, width := range []int{72, 100} {
		s := summaryOf(render(t, plan(), Options{Width: width}))
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("%d columns: a line of %d:\n%s", width, n, l)
			}
		}
		for _, want := range []string{
			"    needs input SEC-005  same as SEC-001\n",
			"    fixed       TLS-011  same as TLS-002\n",
			"                         management user admin: new password\n", // a clause on its own line
			"(as SEC-001)\n",
			"    then, for all of the above: restart WSO2 Micro Integrator for the",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%d columns: the summary lacks %q:\n%s", width, want, s)
			}
		}
		if n := strings.Count(s, "left in clear text"); n != 1 {
			t.Errorf("%d columns: the clause SEC-001 and SEC-005 share is written %d times:\n%s", width, n, s)
		}
		if n := strings.Count(s, "restart WSO2"); n != 1 {
			t.Errorf("%d columns: the restart is written %d times:\n%s", width, n, s)
		}
		if n := strings.Count(s, "password-tmp"); n != 1 {
			t.Errorf("%d columns: the keystore to-do is written whole %d times:\n%s", width, n, s)
		}
	}
	// Wide enough, a clause is one line.
	s := summaryOf(render(t, plan(), Options{Width: 1000}))
	if !strings.Contains(s, "    needs input SEC-001  "+moved+"\n                         "+left+"\n") {
		t.Errorf("at 1000 columns the clauses are not one line each:\n%s", s)
	}
}

// TestSummaryAgreesWithWhatIsShown: the dry run shows every file it
// counts (a mode change as a comment line, a binary file as one line),
// warns about the read-only file, and says "to change"; applied it says
// "changed"; a refused --apply says nothing was written.
func TestSummaryAgreesWithWhatIsShown(t *testing.T) {
	out := render(t, plan(), Options{Width: 100})
	for _, want := range []string{
		"+++ b/conf/deployment.toml\n",
		"# deployment.toml: HTTP-001, SEC-001 (read-only now: --apply needs write permission)\n",
		"# secret-conf.properties: SEC-005: mode 0644 -> 0640 of b/conf/security/secret-conf.properties\n",
		"Binary file b/repository/resources/security/mi.p12 created",
		"warning: read-only now: conf/deployment.toml (mode 0444): --apply needs write permission",
		"; 3 files to change, 1 of them read-only now\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "files changed") {
		t.Errorf("a dry run says files changed:\n%s", out)
	}
	applied := render(t, plan(), Options{Width: 100, Applied: true, Stamp: "20260301T120000"})
	if !strings.Contains(applied, "; 3 files changed\n") || strings.Contains(applied, "warning:") {
		t.Errorf("applied:\n%s", summaryOf(applied))
	}
	refused := render(t, plan(), Options{Width: 100, Refused: true})
	if !strings.Contains(refused, "Summary (--apply wrote nothing") || !strings.Contains(refused, "; nothing written (3 files would change)\n") {
		t.Errorf("refused:\n%s", summaryOf(refused))
	}
}

// TestJSONCarriesDetailsModesAndReadOnly: the JSON has each result's
// clauses, each file's mode before and whether it is read-only now, and
// the target notes.
func TestJSONCarriesDetailsModesAndReadOnly(t *testing.T) {
	p := plan()
	p.Notes = []fix.Note{{Target: "edge", Text: "seen over the network only"}}
	var b bytes.Buffer
	if err := JSON(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []fix.Result
		Notes   []fix.Note
		Files   []struct {
			Path       string
			Mode       string
			ModeBefore string `json:"mode_before"`
			ReadOnly   bool   `json:"read_only"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results[1].Details) != 2 || got.Results[1].Details[1] != left {
		t.Errorf("details: %+v", got.Results[1])
	}
	if len(got.Notes) != 1 {
		t.Errorf("notes: %+v", got.Notes)
	}
	want := map[string][3]string{
		"/opt/wso2mi-4.3.0/conf/deployment.toml":                 {"0444", "0444", "true"},
		"/opt/wso2mi-4.3.0/conf/security/secret-conf.properties": {"0640", "0644", "false"},
		"/opt/wso2mi-4.3.0/repository/resources/security/mi.p12": {"0600", "", "false"},
	}
	for _, f := range got.Files {
		w, ok := want[f.Path]
		if !ok || f.Mode != w[0] || f.ModeBefore != w[1] || (f.ReadOnly != (w[2] == "true")) {
			t.Errorf("file %+v, want %v", f, w)
		}
	}
}
