package wso2kb

import (
	"regexp"
	"strings"
	"testing"
)

// TestEmbeddedResolves parses the embedded products.yaml and resolves every
// product at every described version, at a version between and after them,
// and at an unknown one, compiling every pattern: what Default would
// otherwise find out in the middle of a scan.
func TestEmbeddedResolves(t *testing.T) {
	c, err := Parse(productsYAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []*regexp.Regexp{c.VersionText(), c.UserAgent(), c.UserAgentEntry(), c.DirName()} {
		if re == nil {
			t.Fatal("nil pattern")
		}
	}
	for _, profile := range c.Profiles() {
		vs := c.Versions(profile)
		asks := []string{"", "0.1.0", "99.0.0"}
		for _, d := range vs {
			asks = append(asks, d.Key+".0")
		}
		for _, v := range asks {
			l, err := c.Layout(profile, v)
			if err != nil {
				t.Fatalf("%s %q: %v", profile, v, err)
			}
			for _, re := range []*regexp.Regexp{l.SecretKeySegment(), l.SecretRoot(), l.SystemAccount(), l.DatasourceURLKey(), l.OffWhenFalse(), l.OffWhenTrue()} {
				if re == nil {
					t.Fatal("nil pattern")
				}
			}
			if l.Name == "" || l.Conf == "" || len(l.Ports) == 0 || len(l.ListenerNames()) == 0 || len(l.Keystores.Roles) == 0 {
				t.Errorf("%s %q: incomplete layout %+v", profile, v, l)
			}
			for _, n := range l.ListenerNames() {
				def := l.Listeners[n]
				if def.Protocols == "" && def.NoSetting == "" {
					t.Errorf("%s %s: listener %s names neither a protocol key nor why it has none", profile, v, n)
				}
				switch def.Rendered {
				case "", RenderedCatalina, RenderedAxis2Receiver, RenderedAxis2Sender:
				default:
					t.Errorf("%s listener %s: unknown rendered source %q", profile, n, def.Rendered)
				}
			}
			described := l.Described != ""
			if described != (l.Note == "") {
				t.Errorf("%s %q: described %q with note %q", profile, v, l.Described, l.Note)
			}
		}
	}
}

// TestDefaultsByVersion: a documented default holds within its versions;
// beyond them (or for an unknown version, when it does not hold for every
// described one) it is still the best knowledge there is, and says so.
func TestDefaultsByVersion(t *testing.T) {
	c := Default()
	defaults := func(profile, version string) map[string]string {
		l, err := c.Layout(profile, version)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, d := range l.Defaults() {
			out[d.Key] = d.Beyond
		}
		return out
	}
	in := defaults("wso2-is", "7.1.0")
	if _, ok := in["monitoring.jmx.rmi_server_start"]; !ok || len(in) != 5 {
		t.Fatalf("IS 7.1 defaults: %v", in)
	}
	for k, beyond := range in {
		if beyond != "" {
			t.Errorf("IS 7.1 %s: %s", k, beyond)
		}
	}
	for k, beyond := range defaults("wso2-is", "") {
		if beyond != "" {
			t.Errorf("IS, version unknown, %s: %s (documented for every described version)", k, beyond)
		}
	}
	for k, beyond := range defaults("wso2-is", "7.9.0") {
		if !strings.Contains(beyond, "documented for WSO2 Identity Server 5.11 - 7.3, assumed for 7.9") {
			t.Errorf("IS 7.9 %s: %q", k, beyond)
		}
	}
	if got := defaults("wso2-mi", "4.3.0"); len(got) != 1 || got["monitoring.jmx.rmi_server_start"] != "" {
		t.Errorf("MI 4.3: %v", got)
	}
}

// TestLayoutByVersion: a version's changes apply from that version on, a
// null removes what the layers below set, and a version between two
// described ones gets the changes of those below it.
func TestLayoutByVersion(t *testing.T) {
	c, err := Parse([]byte(strings.ReplaceAll(testYAML, "\t", "  ")))
	if err != nil {
		t.Fatal(err)
	}
	at := func(v string) *Layout {
		l, err := c.Layout("p", v)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := at("1.0.0"); l.StartScripts[0] != "bin/a.sh" || l.Listeners["https"] == nil || l.Described != "1.0" {
		t.Errorf("1.0: %+v", l)
	}
	if l := at("2.0.0"); l.StartScripts[0] != "bin/b.sh" || l.Listeners["https"] != nil || l.Listeners["x"] == nil || l.Keystores.DefaultPassword != "pw" {
		t.Errorf("2.0: %+v", l)
	}
	if l := at("1.5.0"); l.StartScripts[0] != "bin/a.sh" || l.Described != "" || !strings.Contains(l.Note, "not described") {
		t.Errorf("1.5: %+v", l)
	}
	if l := at("3.1.0"); l.StartScripts[0] != "bin/b.sh" || l.Note == "" {
		t.Errorf("3.1: %+v", l)
	}
	if l := at(""); l.StartScripts[0] != "bin/b.sh" || !strings.Contains(l.Note, "could not be read") {
		t.Errorf("unknown: %+v", l)
	}
}

const testYAML = `schema: 1
detection: {version_file: v, version_text: 'x', carbon_name: a, carbon_version: b, user_agent_key: k, user_agent: 'u', dir_name: 'd', fallback: p}
common:
	start_scripts: [bin/a.sh]
	keystores: {default_password: pw}
	listeners:
		https: {protocols: k}
	default_certificate_subject: {cn: localhost}
products:
	p:
		name: P
		names: [p]
		conf: conf
		versions:
			"1.0": {fixture: p-1.0.0}
			"2.0":
				fixture: p-2.0.0
				changes:
					start_scripts: [bin/b.sh]
					listeners: {https: null, x: {protocols: y}}
`

// TestParseRefuses: what products.yaml must not hold.
func TestParseRefuses(t *testing.T) {
	base := strings.ReplaceAll(testYAML, "\t", "  ")
	for name, edit := range map[string][2]string{
		"unquoted version": {`"1.0": {fixture`, `1.0: {fixture`},
		"misspelt key":     {`start_scripts: [bin/b.sh]`, `start_script: [bin/b.sh]`},
		"no fixture":       {`"1.0": {fixture: p-1.0.0}`, `"1.0": {kernel: x}`},
		"bad fallback":     {`fallback: p}`, `fallback: q}`},
		"anchor":           {`keystores: {default_password: pw}`, `keystores: &k {default_password: pw}`},
		"unknown top":      {`schema: 1`, "schema: 1\nextra: 2"},
		"version not m.m":  {`"2.0":`, `"2.0.1":`},
		"described twice":  {`"2.0":`, `"1.00":`},
		"not a mapping":    {`name: P`, "name: P\n    versions: [1]"},
	} {
		t.Run(name, func(t *testing.T) {
			y := strings.Replace(base, edit[0], edit[1], 1)
			if y == base {
				t.Fatalf("edit %q did not apply", edit[0])
			}
			c, err := Parse([]byte(y))
			if err == nil {
				_, err = c.Layout("p", "2.0.0")
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", y)
			}
		})
	}
}
