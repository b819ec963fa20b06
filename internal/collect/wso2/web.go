package wso2

import (
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// webApps reads the security filters of every web app: the Carbon
// console's, the bundled apps', and deployed apps' own web.xml. Where a
// web.xml has a template, the product renders it at start-up, so the
// template evaluated over the effective configuration decides; a web.xml
// without one is static and read as it is.
func (p *product) webApps() []facts.WebApp {
	var out []facts.WebApp
	seen := map[string]bool{}
	if p.kb.ConsoleWebXML != "" {
		f := p.det.path(p.kb.ConsoleWebXML)
		tf := p.kb.Template(f)
		if b, err := p.h.read(tf); err == nil {
			out = append(out, p.webAppFromTemplate("carbon", tf, string(b)))
			seen["carbon"] = true
		} else if doc := p.xml(f); doc != nil {
			out = append(out, webAppFromXML("carbon", f, doc))
			seen["carbon"] = true
		}
	}
	// Apps rendered from templates.
	for _, app := range p.h.list(p.kb.WebappTemplates) {
		tf := join(p.kb.WebappTemplates, app, p.kb.WebXML) + ".j2"
		b, err := p.h.read(tf)
		if err != nil {
			continue
		}
		seen[app] = true
		out = append(out, p.webAppFromTemplate(app, tf, string(b)))
	}
	// Deployed apps with a static web.xml.
	for _, app := range p.h.list(p.kb.Webapps) {
		if seen[app] {
			continue
		}
		f := join(p.kb.Webapps, app, p.kb.WebXML)
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
	cat := p.det.path(p.kb.Files.Catalina)
	for _, h := range p.kb.TomcatServerHeaders {
		if p.cfg.Has(h.Key) {
			out = append(out, p.setting(h.Key))
			continue
		}
		conn := p.httpConnector
		if h.Connector == "https" {
			conn = p.httpsConnector
		}
		if n, ok := conn(cat); ok {
			v, has := n.Attrs["server"]
			if !has {
				v = p.kb.TomcatDefaultServer
			}
			out = append(out, facts.Setting{Key: h.Key, Value: v, Set: true, Origin: facts.Origin{File: cat, Line: n.Line, Note: "rendered file"}})
		}
	}
	if pt := p.kb.Passthrough; pt != nil {
		out = append(out, p.passthroughServer(pt))
	}
	return out
}

// passthroughServer is the PassThrough transport's Server header:
// http.origin-server in passthru-http.properties, or the code default.
func (p *product) passthroughServer(pt *wso2kb.Passthrough) facts.Setting {
	f := p.det.path(p.kb.Files.Passthru)
	key := baseName(f) + " " + pt.ServerProperty
	if b, err := p.h.read(f); err == nil {
		for i, line := range strings.Split(string(b), "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "#") {
				continue
			}
			if k, v, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == pt.ServerProperty {
				return facts.Setting{Key: key, Value: strings.TrimSpace(v), Set: true, Origin: facts.Origin{File: f, Line: i + 1}}
			}
		}
	}
	return facts.Setting{Key: key, Value: pt.ServerDefault, Set: true,
		Origin: facts.Origin{File: f, Note: "not set: Synapse's built-in default applies"}}
}

// sessionIDLength reads Tomcat's sessionIdLength from context.xml.
func (p *product) sessionIDLength() (int, facts.Origin, error) {
	f := p.det.path(p.kb.Files.Context)
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
