package wso2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

func webAppNamed(t *testing.T, p *facts.Product, name string) facts.WebApp {
	t.Helper()
	for _, w := range p.WebApps {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no web app %q in %+v", name, p.WebApps)
	return facts.WebApp{}
}

// kernelTemplateCopy is is-7.1.0 (whose default.json carries the kernel's
// [http_header_security_filter] keys) with a Carbon console web.xml.j2 in
// the shape of carbon-kernel 4.9+, and extra deployment.toml lines.
func kernelTemplateCopy(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "is-7.1.0"), dir)
	tpl, err := os.ReadFile(filepath.Join("testdata", "webxml", "kernel-carbon-web.xml.j2"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "repository/resources/conf/templates/repository/conf/tomcat/carbon/WEB-INF/web.xml.j2"), tpl)
	if toml != "" {
		p := filepath.Join(dir, "repository/conf/deployment.toml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, append(b, []byte("\n"+toml)...))
	}
	return dir
}

// TestKernelHSTSKeys: on kernels whose Carbon console template reads
// [http_header_security_filter], HSTS follows the effective keys, the
// shipped defaults first, then deployment.toml.
func TestKernelHSTSKeys(t *testing.T) {
	const defaults = "repository/resources/conf/default.json"
	cases := []struct {
		name     string
		toml     string
		on       bool
		maxAge   int64
		file     string
		line     int
		noteHas  string
		http002  string
		tomlLine bool
	}{
		{name: "shipped defaults", on: false, file: defaults, line: 213, noteHas: "product default", http002: "fail"},
		{name: "only the first filter", toml: "[http_header_security_filter]\nhsts.enabled = true\n", on: false, maxAge: 31536000, file: defaults, line: 215, http002: "fail"},
		{name: "both filters", toml: "[http_header_security_filter]\nhsts.enabled = true\nanti_click_jacking.hsts.enabled = true\n", on: true, maxAge: 31536000, file: "repository/conf/deployment.toml", tomlLine: true, http002: "fail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, fs := scan(t, kernelTemplateCopy(t, c.toml), target.Declared{})
			w := webAppNamed(t, f.Product, "carbon")
			if w.HSTSEnabled != c.on || w.HSTSMaxAge != c.maxAge || w.Origin.File != c.file {
				t.Fatalf("carbon = %+v", w)
			}
			if c.line != 0 && w.Origin.Line != c.line {
				t.Errorf("origin line %d, want %d", w.Origin.Line, c.line)
			}
			if c.tomlLine && w.Origin.Line == 0 {
				t.Errorf("no deployment.toml line: %+v", w.Origin)
			}
			if !strings.Contains(w.Origin.Note, c.noteHas) {
				t.Errorf("origin note %q lacks %q", w.Origin.Note, c.noteHas)
			}
			// The IS 7 apps still have HSTS off, so HTTP-002 fails either
			// way; carbon is named only while it is off.
			for _, fd := range fs {
				if fd.RuleID == "HTTP-002" && (string(fd.Status) != c.http002 || strings.Contains(fd.Message, "carbon") == c.on) {
					t.Errorf("HTTP-002 = %s %q", fd.Status, fd.Message)
				}
			}
		})
	}
}

// TestAPIMCarbonHSTSList: API-M 4.x renders the console filter from the
// tomcat.header_security_filters list; a list in deployment.toml replaces
// the shipped one, while the second, fixed filter stays as the template
// writes it.
func TestAPIMCarbonHSTSList(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "apim-4.5.0"), dir)
	f, _ := scan(t, dir, target.Declared{})
	w := webAppNamed(t, f.Product, "carbon")
	if w.HSTSEnabled || w.Origin.File != "repository/resources/conf/default.json" || w.Origin.Line != 472 {
		t.Fatalf("shipped carbon = %+v", w)
	}
	p := filepath.Join(dir, "repository/conf/deployment.toml")
	b, _ := os.ReadFile(p)
	writeFile(t, p, append(b, []byte("\n[[tomcat.header_security_filters]]\nname = \"hstsEnabled\"\nvalue = \"true\"\n")...))
	f, _ = scan(t, dir, target.Declared{})
	w = webAppNamed(t, f.Product, "carbon")
	tpl := "repository/resources/conf/templates/repository/conf/tomcat/carbon/WEB-INF/web.xml.j2"
	if w.HSTSEnabled || w.Origin.File != tpl || w.Origin.Line != 104 || w.Origin.Note != "fixed in the template" {
		t.Fatalf("carbon with the list set = %+v (the EnableAntiClickJacking filter still writes false)", w)
	}
}

func TestParseTemplateFilters(t *testing.T) {
	tpl := `<web-app>
<filter>
  <filter-name>A</filter-name>
  <filter-class>org.apache.catalina.filters.HttpHeaderSecurityFilter</filter-class>
  {% set ns = namespace(found=false) %}
  {% for p in app.tomcat.params %}
  <init-param><param-name>{{ p.name }}</param-name><param-value>{{ p.value }}</param-value></init-param>
  {% endfor %}
  {% if not ns.found %}
  <init-param><param-name>hstsEnabled</param-name><param-value>false</param-value></init-param>
  {% endif %}
  <init-param><param-name>hstsMaxAgeSeconds</param-name><param-value>{{ app.max_age | default("600") }}</param-value></init-param>
</filter>
</web-app>`
	fs := parseTemplateFilters(tpl)
	if len(fs) != 1 || fs[0].class != "org.apache.catalina.filters.HttpHeaderSecurityFilter" || fs[0].line != 2 || len(fs[0].items) != 3 {
		t.Fatalf("filters = %+v", fs)
	}
	it := fs[0].items
	if it[0].list == nil || it[0].list.key != "app.tomcat.params" || it[0].list.line != 7 {
		t.Errorf("loop = %+v", it[0])
	}
	if p := it[1].param; p == nil || p.name != "hstsEnabled" || p.literal != "false" || !p.fallback || p.line != 10 {
		t.Errorf("fallback = %+v", it[1].param)
	}
	if p := it[2].param; p == nil || p.key != "app.max_age" || p.def == nil || *p.def != "600" || p.fallback {
		t.Errorf("default = %+v", it[2].param)
	}
}

func FuzzParseTemplateFilters(f *testing.F) {
	for _, seed := range []string{
		"<filter><filter-class>x</filter-class><init-param><param-name>a</param-name><param-value>{{ k | default('1') }}</param-value></init-param></filter>",
		"<filter>{% for p in l %}<init-param><param-name>{{p.name}}</param-name><param-value>{{p.value}}</param-value></init-param>{% endfor %}</filter>",
		"<filter>{% endif %}{% endfor %}<init-param><param-name></param-name></init-param><!-- <filter> -->",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fl := range parseTemplateFilters(s) {
			if fl.line < 1 {
				t.Fatalf("line %d", fl.line)
			}
			for _, it := range fl.items {
				if (it.param == nil) == (it.list == nil) {
					t.Fatalf("item %+v", it)
				}
			}
		}
	})
}
