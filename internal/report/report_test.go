package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/report"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/waiver"
	builtin "github.com/rampart-sec/rampart/rules"
	"github.com/rampart-sec/rampart/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// sampleReport judges the built-in rules against facts shaped like a weak
// TLS endpoint and a default WSO2 installation, with one waiver and one
// attestation applied: every status and every evidence shape appears.
func sampleReport(t *testing.T) *finding.Report {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS})
	if err != nil {
		t.Fatal(err)
	}
	weakCert := facts.Certificate{
		Subject: "CN=weak.eval.local,O=Eval Weak Target", Issuer: "CN=weak.eval.local,O=Eval Weak Target",
		NotBefore: clock.AddDate(0, -1, 0), NotAfter: clock.AddDate(10, 0, 0),
		KeyType: "RSA", KeyBits: 1024, SignatureAlgorithm: "SHA1-RSA", SelfSigned: true,
		DNSNames: []string{}, IPAddresses: []string{},
	}
	endpoint := &facts.Facts{
		Target: facts.Target{Name: "https://127.0.0.1:8443/", Kind: "endpoint", Profiles: []string{}},
		Scan:   facts.DefaultScan(clock),
		TLS: &facts.TLS{
			Address:  "127.0.0.1:8443",
			Versions: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"},
			Suites: []facts.CipherSuite{
				{Version: "TLSv1.2", ID: "0xC02F", Name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Kex: "ECDHE", Auth: "RSA", Cipher: "AES_128_GCM", Mode: "AEAD", MAC: "AEAD", Bits: 128, ForwardSecrecy: true},
				{Version: "TLSv1.2", ID: "0x002F", Name: "TLS_RSA_WITH_AES_128_CBC_SHA", Kex: "RSA", Auth: "RSA", Cipher: "AES_128_CBC", Mode: "CBC", MAC: "SHA", Bits: 128},
			},
			DHBits:              1024,
			SecureRenegotiation: true,
			ClientRenegotiation: "rejected",
			Chain:               []facts.Certificate{weakCert},
			TrustError:          "x509: certificate signed by unknown authority",
			NameChecked:         "127.0.0.1",
			Chains: []facts.ServedChain{{Certificates: []facts.Certificate{weakCert}, ServedWith: []string{"RSA"},
				TrustError: "x509: certificate signed by unknown authority"}},
		},
		Status: map[string]facts.Status{
			"http": {State: facts.Failed, Reason: "read 127.0.0.1:8443: connection reset by peer"},
			"ssh":  {State: facts.Absent},
		},
	}
	product := &facts.Facts{
		Target: facts.Target{Name: "/opt/wso2am-4.1.0", Kind: "directory", Profiles: []string{"wso2-apim"}},
		Scan:   facts.DefaultScan(clock),
		Product: &facts.Product{
			Profile: "wso2-apim", Name: "WSO2 API Manager", Version: "4.1.0",
			TLSListeners: []facts.TLSListener{{Name: "https", Port: 9443, Protocols: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"},
				Origin: facts.Origin{File: "repository/resources/conf/default.json", Note: "product default"}}},
			Secrets: []facts.Secret{
				{Key: "super_admin.password", Form: "plain", KnownDefault: true, Kind: "password", Origin: facts.Origin{File: "repository/conf/deployment.toml", Line: 16}},
				{Key: "keystore.tls.password", Form: "plain", KnownDefault: true, Kind: "password", Origin: facts.Origin{File: "repository/conf/deployment.toml", Line: 61}},
			},
			Hostname: facts.Setting{Key: "server.hostname", Value: "localhost", Set: true, Origin: facts.Origin{File: "repository/conf/deployment.toml", Line: 2}},
			JMX:      facts.JMX{Enabled: true, RegistryPort: 9999, ServerPort: 11111, Origin: facts.Origin{File: "repository/conf/etc/jmx.xml", Line: 20}},
		},
	}
	var all []finding.Finding
	only, _ := set.Filter([]string{"TLS-002", "TLS-005", "TLS-008", "KEY-003", "HTTP-001", "SEC-001", "NET-003", "NET-007", "LOG-003", "NET-006", "TLS-003"}, nil)
	all = append(all, rules.Judge(only, rules.Input{Facts: endpoint, Offers: map[string]bool{"probe": true}})...)
	all = append(all, rules.Judge(only, rules.Input{Facts: product, Offers: map[string]bool{"file": true}})...)
	ex := &waiver.Set{}
	wf, err := waiver.Parse(strings.NewReader(`
waivers:
  - rule: NET-003
    target: /opt/wso2am*
    reason: JMX is bound to the monitoring VLAN until the agent migration
    by: ops@example.com
    expires: 2027-01-31
attestations:
  - rule: LOG-003
    target: "*"
    evidence: proxy logs shipped to the SIEM, reviewed weekly (ticket SEC-1234)
    by: secops@example.com
    expires: 2027-06-30
  - rule: NET-006
    target: "/opt/*"
    evidence: network review 2025-Q1
    by: netops@example.com
    expires: 2025-04-01
`), "exceptions.yaml", set.Has)
	if err != nil {
		t.Fatal(err)
	}
	ex.Add(wf)
	ex.Apply(all, clock)
	r := &finding.Report{
		SchemaVersion: finding.SchemaVersion,
		Tool:          finding.Tool{Name: "rampart", Version: "0.1.0-test", URI: "https://github.com/rampart-sec/rampart"},
		StartedAt:     clock,
		FinishedAt:    clock.Add(1500 * time.Millisecond),
		Targets: []finding.TargetInfo{
			{Name: "https://127.0.0.1:8443/", Kind: "endpoint", Profiles: []string{}, Role: "dmz", Errors: []string{"http: read 127.0.0.1:8443: connection reset by peer"}},
			{Name: "/opt/wso2am-4.1.0", Kind: "directory", Profiles: []string{"wso2-apim"}, Product: "WSO2 API Manager", Version: "4.1.0"},
		},
		Findings: all,
	}
	r.Finalize()
	return r
}

func render(t *testing.T, format string, opt report.Options, r *finding.Report) []byte {
	t.Helper()
	rd, err := report.New(format, opt)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n--- got ---\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	r := sampleReport(t)
	cases := []struct {
		file, format string
		opt          report.Options
	}{
		{"report.txt", "text", report.Options{}},
		{"report-80.txt", "text", report.Options{Width: 80}},
		{"report-160.txt", "text", report.Options{Width: 160}},
		{"report-verbose.txt", "text", report.Options{Verbose: true}},
		{"report-color.txt", "text", report.Options{Color: true}},
		{"report-quiet.txt", "text", report.Options{Quiet: true, Width: 80}},
		{"report-table-80.txt", "table", report.Options{Width: 80}},
		{"report-table-160.txt", "table", report.Options{Width: 160}},
		{"report.json", "json", report.Options{}},
		{"report.sarif", "sarif", report.Options{}},
		{"report.junit.xml", "junit", report.Options{}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) { golden(t, c.file, render(t, c.format, c.opt, r)) })
	}
}

func TestTextShowsWhatMatters(t *testing.T) {
	out := string(render(t, "text", report.Options{}, sampleReport(t)))
	for _, want := range []string{
		"FAIL", "TLS-002", "the endpoint offers TLSv1.0 and TLSv1.1", "evidence:", "fix:",
		"repository/conf/deployment.toml:16", "WAIVED", "ATTESTED", "collector error:",
		"waiver by ops@example.com until 2027-01-31",
		"attestation by netops@example.com expired on 2025-04-01",
		"Summary:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes without Color")
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := report.New("yaml", report.Options{}); err == nil || !strings.Contains(err.Error(), "text, table, json, sarif, junit") {
		t.Fatalf("want an error listing the formats, got %v", err)
	}
}

func compileSchema(t *testing.T, name string, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("invalid against the schema: %v", err)
	}
}

func TestJSONMatchesShippedSchema(t *testing.T) {
	s := compileSchema(t, "report.schema.json", schema.Report)
	validate(t, s, render(t, "json", report.Options{}, sampleReport(t)))
	// An empty scan is valid too.
	empty := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "x"},
		StartedAt: clock, FinishedAt: clock, Targets: []finding.TargetInfo{}, Findings: []finding.Finding{}}
	empty.Finalize()
	validate(t, s, render(t, "json", report.Options{}, empty))
	// And the schema rejects what it should: an unknown status.
	bad := bytes.Replace(render(t, "json", report.Options{}, sampleReport(t)), []byte(`"status": "fail"`), []byte(`"status": "failed"`), 1)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if s.Validate(inst) == nil {
		t.Fatal("the schema accepted an unknown status")
	}
}

// sarifSchemaPath finds the SARIF 2.1.0 JSON schema. It comes from the
// npm package @microsoft/jest-sarif (scripts/fetch-sarif-schema.sh, which
// .ci/run calls), and is not committed.
func sarifSchemaPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("RAMPART_SARIF_SCHEMA")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "rampart", "sarif-schema-2.1.0.json")
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "SARIF schema not found at %s (run scripts/fetch-sarif-schema.sh)", p)
	}
	return p
}

func TestSARIFValidAgainstSchema(t *testing.T) {
	data, err := os.ReadFile(sarifSchemaPath(t))
	if err != nil {
		t.Fatal(err)
	}
	s := compileSchema(t, "sarif-schema-2.1.0.json", data)
	out := render(t, "sarif", report.Options{}, sampleReport(t))
	validate(t, s, out)
	// The validator does bite: a level SARIF does not define is rejected.
	bad := bytes.Replace(out, []byte(`"level": "error"`), []byte(`"level": "severe"`), 1)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if s.Validate(inst) == nil {
		t.Fatal("the SARIF schema accepted level \"severe\"")
	}
}

// TestSARIFForCodeScanning checks what GitHub code scanning needs beyond
// the schema: version 2.1.0, rules with help text, every result with a
// location and a level, and a partial fingerprint.
func TestSARIFForCodeScanning(t *testing.T) {
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []any             `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", report.Options{}, sampleReport(t)), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	for _, r := range run.Tool.Driver.Rules {
		if r.Help.Text == "" {
			t.Errorf("rule %s has no help text", r.ID)
		}
	}
	var fileLine, suppressed bool
	for _, res := range run.Results {
		if len(res.Locations) == 0 || res.Level == "" || res.PartialFingerprints["rampartFingerprint/v1"] == "" {
			t.Errorf("result %s lacks a location, level or fingerprint", res.RuleID)
		}
		for _, l := range res.Locations {
			if l.PhysicalLocation.ArtifactLocation.URI == "repository/conf/deployment.toml" && l.PhysicalLocation.Region != nil && l.PhysicalLocation.Region.StartLine == 16 {
				fileLine = true
			}
		}
		if len(res.Suppressions) > 0 {
			suppressed = true
		}
	}
	if !fileLine {
		t.Error("no result points at repository/conf/deployment.toml line 16")
	}
	if !suppressed {
		t.Error("the waived finding is not a suppressed result")
	}
}

func TestJUnitWellFormed(t *testing.T) {
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	r := sampleReport(t)
	if err := xml.Unmarshal(render(t, "junit", report.Options{}, r), &suites); err != nil {
		t.Fatal(err)
	}
	if len(suites.Suites) != len(r.Targets) {
		t.Fatalf("%d suites for %d targets", len(suites.Suites), len(r.Targets))
	}
	if suites.Tests != len(r.Findings) || suites.Failures != r.Summary.ByStatus[finding.Fail] {
		t.Fatalf("tests=%d failures=%d, want %d and %d", suites.Tests, suites.Failures, len(r.Findings), r.Summary.ByStatus[finding.Fail])
	}
}
