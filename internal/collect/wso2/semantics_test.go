package wso2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

func listener(f *facts.Facts, name string) *facts.TLSListener {
	for i := range f.Product.TLSListeners {
		if f.Product.TLSListeners[i].Name == name {
			return &f.Product.TLSListeners[i]
		}
	}
	return nil
}

// MI's internal API: sslProtocol = "SSLV3" (the shipped value) names the
// SSL context only; httpsProtocols decides what is offered. A hardened MI
// that sets httpsProtocols alone was told it "allows SSLv3".
func TestMIInternalAPISSLProtocolNamesTheContext(t *testing.T) {
	dir := editCopy(t, "mi-4.3.0", func(s string) string {
		return s + "\n[internal_api_ssl_config.parameter]\nhttpsProtocols = \"TLSv1.2,TLSv1.3\"\n"
	})
	f, fs := scan(t, dir, target.Declared{})
	l := listener(f, "internal-api")
	if l == nil || strings.Join(l.Protocols, ",") != "TLSv1.2,TLSv1.3" || !strings.Contains(l.Origin.Note, "names the SSL context only") {
		t.Fatalf("internal-api listener: %+v", l)
	}
	if m := findingOf(fs, "TLS-011").Message; strings.Contains(m, "internal-api") || strings.Contains(m, "SSLv3") {
		t.Errorf("TLS-011: %s", m)
	}
}

// API-M's message broker listens for AMQP over TLS on 8672 (+ offset),
// rendered only into broker.xml from its template, offering TLSv1 alone
// by default: a listener TLS-002 and TLS-011 judge.
func TestAPIMAMQPListener(t *testing.T) {
	dir := editCopy(t, "apim-4.1.0", func(s string) string {
		return strings.Replace(s, "[server]\n", "[server]\noffset = 3\n", 1)
	})
	f, fs := scan(t, dir, target.Declared{})
	l := listener(f, "amqp-tls")
	if l == nil || l.Port != 8675 || strings.Join(l.Protocols, ",") != "TLSv1.0" || !strings.HasSuffix(l.Origin.File, "default.json") {
		t.Fatalf("amqp-tls listener: %+v", l)
	}
	wantStatus(t, fs, map[string]finding.Status{"TLS-002": finding.Fail, "TLS-011": finding.Fail},
		map[string]string{"TLS-002": "amqp-tls", "TLS-011": "amqp-tls allows TLSv1.0"})
	w := listener(f, "websub-https")
	if w == nil || w.Port != 8024 || !w.NoSetting {
		t.Errorf("websub-https listener: %+v", w)
	}
}

// A deployment.toml without the rest of the pack: a value only the
// product's defaults hold is its documented default, and says so; one
// with no documented default is unknown.
func TestDocumentedDefaults(t *testing.T) {
	f, fs := scan(t, filepath.Join(fixturesDir(t), "is-7.3.0-docker-compose"), target.Declared{})
	if !f.Product.DefaultsIncomplete {
		t.Error("defaults_incomplete not set")
	}
	l := listener(f, "https")
	if l == nil || strings.Join(l.Protocols, ",") != "TLSv1.0,TLSv1.1,TLSv1.2" || !strings.Contains(l.Origin.Note, "documented product default") {
		t.Fatalf("https listener: %+v", l)
	}
	wantStatus(t, fs, map[string]finding.Status{
		"TLS-002": finding.Fail, "TLS-011": finding.Fail, "IAM-006": finding.Pass, "HTTP-001": finding.Fail,
		"IAM-004": finding.Error, "HTTP-002": finding.Error,
	}, map[string]string{"IAM-006": "documented product default"})
	// A complete pack never takes a documented value.
	f, _ = scan(t, filepath.Join(fixturesDir(t), "is-7.1.0"), target.Declared{})
	if f.Product.DefaultsIncomplete {
		t.Error("IS 7.1 pack: defaults_incomplete set")
	}
	for k, s := range f.Product.Settings {
		if strings.Contains(s.Origin.Note, "documented product default") {
			t.Errorf("IS 7.1 pack: %s from a documented default", k)
		}
	}
}

// RT-001 with an update level the installation does not show is an error
// saying why, not a failure with evidence -1.
func TestUnreadableUpdateLevel(t *testing.T) {
	decl := target.Declared{MinUpdateLevel: 10}
	_, fs := scan(t, filepath.Join(fixturesDir(t), "mi-4.3.0"), decl)
	wantStatus(t, fs, map[string]finding.Status{"RT-001": finding.Error}, map[string]string{"RT-001": "no updates/config.json"})
	dir := editCopy(t, "mi-4.3.0", func(s string) string { return s })
	writeFile(t, filepath.Join(dir, "updates/config.json"), []byte(`{"update-level": `))
	_, fs = scan(t, dir, decl)
	wantStatus(t, fs, map[string]finding.Status{"RT-001": finding.Error}, map[string]string{"RT-001": "updates/config.json: not JSON"})
	writeFile(t, filepath.Join(dir, "updates/config.json"), []byte(`{"update-level": "7"}`))
	_, fs = scan(t, dir, decl)
	wantStatus(t, fs, map[string]finding.Status{"RT-001": finding.Fail}, map[string]string{"RT-001": "update level 7 is below the required 10"})
}

// Values the rules could not see used to pass silently: an unreadable
// context.xml read as Tomcat's default session ID length (IAM-005), a JMX
// switch written as an environment reference read as "off" (NET-003), a
// port offset from the environment read as the default (NET-002).
func TestUnknownValuesAreErrors(t *testing.T) {
	dir := editCopy(t, "apim-4.1.0", func(s string) string {
		s = strings.Replace(s, "[server]\n", "[server]\noffset = \"$env{PORT_OFFSET}\"\n", 1)
		return s + "\n[monitoring.jmx]\nrmi_server_start = \"$env{JMX_ON}\"\n"
	})
	writeFile(t, filepath.Join(dir, "repository/conf/tomcat/context.xml"), []byte("<Context><Manager className=\"x\"><SessionIdGenerator sessionIdLength=\"128\"/></Mana"))
	_, fs := scan(t, dir, target.Declared{})
	wantStatus(t, fs, map[string]finding.Status{"IAM-005": finding.Error, "NET-003": finding.Error, "NET-002": finding.Error},
		map[string]string{"NET-003": "$env{JMX_ON}", "NET-002": "$env{PORT_OFFSET}"})
}
