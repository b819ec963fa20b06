package wso2

import (
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
)

const webappTemplates = resources + "/templates/repository/deployment/server/webapps"

// webApps reads the security filters of every web app: the Carbon
// console's, the bundled apps', and deployed apps' own web.xml. Where a
// web.xml has a template, the product renders it at start-up, so the
// template evaluated over the effective configuration decides; a web.xml
// without one is static and read as it is.
func (p *product) webApps() []facts.WebApp {
	var out []facts.WebApp
	seen := map[string]bool{}
	if p.det.profile != ProfileMI {
		f := p.det.layout.path("tomcat/carbon/WEB-INF/web.xml")
		tf := resources + "/templates/" + f + ".j2"
		if b, err := p.h.read(tf); err == nil {
			out = append(out, p.webAppFromTemplate("carbon", tf, string(b)))
			seen["carbon"] = true
		} else if doc := p.xml(f); doc != nil {
			out = append(out, webAppFromXML("carbon", f, doc))
			seen["carbon"] = true
		}
	}
	// Apps rendered from templates.
	for _, app := range p.h.list(webappTemplates) {
		tf := join(webappTemplates, app, "WEB-INF/web.xml.j2")
		b, err := p.h.read(tf)
		if err != nil {
			continue
		}
		seen[app] = true
		out = append(out, p.webAppFromTemplate(app, tf, string(b)))
	}
	// Deployed apps with a static web.xml.
	for _, app := range p.h.list("repository/deployment/server/webapps") {
		if seen[app] {
			continue
		}
		f := join("repository/deployment/server/webapps", app, "WEB-INF/web.xml")
		if doc := p.xml(f); doc != nil {
			out = append(out, webAppFromXML(app, f, doc))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// webAppFromXML reads a web.xml: HSTS is on only when every
// HttpHeaderSecurityFilter enables it (Tomcat's default is on; WSO2 ships
// hstsEnabled=false), and a cache-prevention filter is present.
func webAppFromXML(name, file string, doc *xmlconf.Node) facts.WebApp {
	w := facts.WebApp{Name: name, File: file, Origin: facts.Origin{File: file}}
	nFilters := 0
	allOn := true
	for _, f := range doc.All("filter") {
		class := ""
		if c := f.Child("filter-class"); c != nil {
			class = c.Text
		}
		if strings.Contains(class, "CachePreventionFilter") {
			w.CachePrevention = true
		}
		if !strings.HasSuffix(class, "HttpHeaderSecurityFilter") {
			continue
		}
		nFilters++
		on := true // Tomcat's default
		for _, ip := range f.All("init-param") {
			pn, pv := ip.Child("param-name"), ip.Child("param-value")
			if pn == nil || pv == nil {
				continue
			}
			switch pn.Text {
			case "hstsEnabled":
				on = strings.EqualFold(pv.Text, "true")
				if !on && w.Origin.Line == 0 {
					w.Origin.Line = pv.Line
				}
			case "hstsMaxAgeSeconds":
				if n, err := strconv.ParseInt(pv.Text, 10, 64); err == nil {
					w.HSTSMaxAge = n
				}
			}
		}
		allOn = allOn && on
	}
	w.HSTSEnabled = nFilters > 0 && allOn
	if nFilters == 0 {
		w.Origin.Note = "no HttpHeaderSecurityFilter"
	}
	return w
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// serverHeaders are the Server header values the HTTP connectors send.
func (p *product) serverHeaders() []facts.Setting {
	var out []facts.Setting
	if p.det.profile != ProfileMI {
		cat := p.det.layout.path("tomcat/catalina-server.xml")
		for _, c := range []struct {
			key  string
			conn func(string) (*xmlconf.Node, bool)
		}{{"transport.https.properties.server", p.httpsConnector}, {"transport.http.properties.server", p.httpConnector}} {
			if p.cfg.Has(c.key) {
				out = append(out, p.setting(c.key))
				continue
			}
			if n, ok := c.conn(cat); ok {
				v, has := n.Attrs["server"]
				if !has {
					v = "Apache-Coyote/1.1"
				}
				out = append(out, facts.Setting{Key: c.key, Value: v, Set: true, Origin: facts.Origin{File: cat, Line: n.Line, Note: "rendered file"}})
			}
		}
	}
	if p.det.profile == ProfileAPIM || p.det.profile == ProfileMI {
		out = append(out, p.passthroughServer())
	}
	return out
}

// passthroughServer is the PassThrough transport's Server header:
// http.origin-server in passthru-http.properties, or the code default.
func (p *product) passthroughServer() facts.Setting {
	key := "passthru-http.properties http.origin-server"
	f := p.det.layout.path("passthru-http.properties")
	if b, err := p.h.read(f); err == nil {
		for i, line := range strings.Split(string(b), "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "#") {
				continue
			}
			if k, v, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == "http.origin-server" {
				return facts.Setting{Key: key, Value: strings.TrimSpace(v), Set: true, Origin: facts.Origin{File: f, Line: i + 1}}
			}
		}
	}
	return facts.Setting{Key: key, Value: "WSO2-PassThrough-HTTP", Set: true,
		Origin: facts.Origin{File: f, Note: "not set: Synapse's built-in default applies"}}
}

// sessionIDLength reads Tomcat's sessionIdLength from context.xml.
func (p *product) sessionIDLength() (int, facts.Origin, error) {
	f := p.det.layout.path("tomcat/context.xml")
	if !p.h.exists(f) {
		return 0, facts.Origin{File: f, Note: "no context.xml: Tomcat's default (16 bytes)"}, nil
	}
	b, err := p.h.read(f)
	if err != nil {
		return 0, facts.Origin{}, err
	}
	doc, err := xmlconf.Parse(b)
	if err != nil {
		return 0, facts.Origin{}, p.errorf("%s: %w", f, err)
	}
	if g := doc.First("SessionIdGenerator"); g != nil {
		if v, ok := g.Attrs["sessionIdLength"]; ok {
			return atoi(v), facts.Origin{File: f, Line: g.Line}, nil
		}
	}
	for _, m := range doc.All("Manager") {
		if v, ok := m.Attrs["sessionIdLength"]; ok {
			return atoi(v), facts.Origin{File: f, Line: m.Line}, nil
		}
	}
	return 0, facts.Origin{File: f, Note: "sessionIdLength not set: Tomcat's default (16 bytes)"}, nil
}
