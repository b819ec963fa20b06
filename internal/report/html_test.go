package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rampart-sec/rampart/internal/finding"
)

func htmlReport() *finding.Report {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "1.2.3"}, StartedAt: at.Add(-time.Minute), FinishedAt: at,
		Targets: []finding.TargetInfo{{Name: "/opt/wso2is-7.1.0", Kind: "directory", Product: "wso2is", Version: "7.1.0", Profiles: []string{"wso2-is"}},
			{Name: "https://127.0.0.1:9443/", Kind: "endpoint", Errors: []string{"ssh: connection refused"}}}}
	r.Findings = []finding.Finding{
		{RuleID: "KEY-001", Title: "Default keystore not in use", Target: "/opt/wso2is-7.1.0", Status: finding.Fail, Severity: finding.Critical, Domain: "keys",
			Message: "wso2carbon.jks <is> the default", Evidence: []finding.Evidence{{Source: "repository/conf/deployment.toml", Line: 12, Path: "product.keystores", Value: "wso2carbon.jks"}},
			Remediation: "Replace the keystore.", References: []string{"https://example.invalid/ks"}},
		{RuleID: "TLS-002", Title: "No TLS 1.0/1.1", Target: "https://127.0.0.1:9443/", Status: finding.Pass, Severity: finding.High, Domain: "tls", Message: "TLSv1.2, TLSv1.3"},
		{RuleID: "OPS-001", Title: "Patched", Target: "/opt/wso2is-7.1.0", Status: finding.Waived, Severity: finding.Medium, Domain: "ops",
			Exception: &finding.Exception{Kind: "waiver", Reason: "upgrade planned", By: "ops", Expires: "2026-06-30", Original: finding.Fail}},
		{RuleID: "MON-001", Title: "Monitored", Target: "https://127.0.0.1:9443/", Status: finding.Manual, Severity: finding.Medium, Domain: "logging", Message: "attest it"},
	}
	r.Finalize()
	return r
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := (HTML{}).Render(&b, htmlReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	// No external resource: no src/href to another origin for scripts,
	// styles, images or fonts; no <script>, <link> or <img> at all.
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "img", "iframe", "object", "embed":
				t.Errorf("report has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if a.Key == "src" || (a.Key == "href" && n.Data != "a") {
					t.Errorf("<%s %s=%q> loads a resource", n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if regexp.MustCompile(`url\(|@import`).MatchString(out) {
		t.Error("style sheet references an external resource")
	}
	for _, want := range []string{
		"<style>", "@media print", "KEY-001", "repository/conf/deployment.toml:12", "Replace the keystore.",
		"wso2carbon.jks &lt;is&gt; the default", // escaped
		"upgrade planned", "2026-06-30", "ssh: connection refused", "<svg", "Needs attention (1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Deterministic output.
	var b2 bytes.Buffer
	if err := (HTML{}).Render(&b2, htmlReport()); err != nil || b2.String() != out {
		t.Error("two renders of one report differ")
	}
}

func TestHTMLRegistered(t *testing.T) {
	r, err := New("html", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(HTML); !ok {
		t.Errorf("New(html) = %T", r)
	}
}
