package wso2fix

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix/tomledit"
)

// neutralServer is the Server header value the fixes set.
const neutralServer = "WebServer"

// serverHeaders sets a neutral Server header on every connector (HTTP-001).
func (p *planner) serverHeaders() {
	disclosing := regexp.MustCompile(`(?i)(wso2|carbon|tomcat|synapse|passthrough|[0-9]+\.[0-9]+)`)
	const rule = "HTTP-001"
	if !p.fails(rule) {
		return
	}
	var done []string
	for _, h := range p.prod.ServerHeaders {
		if !disclosing.MatchString(h.Value) {
			continue
		}
		if strings.HasPrefix(h.Key, "passthru-http.properties") {
			if err := p.passthroughServer(rule); err != nil {
				p.manual(rule, err.Error())
				continue
			}
			done = append(done, "http.origin-server")
			continue
		}
		p.setKey(h.Key, neutralServer, rule)
		done = append(done, h.Key)
	}
	if len(done) > 0 {
		p.fixed(rule, "Server: "+neutralServer+" on "+strings.Join(done, ", "))
	}
}

// passthroughServer sets http.origin-server: in deployment.toml's table
// the product renders passthru-http.properties from, and in the rendered
// file itself (which the next start renders the same way).
func (p *planner) passthroughServer(rule string) error {
	itemsLoop := regexp.MustCompile(`\{%-?\s*for\s+\w+\s*,\s*\w+\s+in\s+([\w.]+)\.items\(\)`)
	rendered := path.Join(p.conf, "passthru-http.properties")
	tpl := "repository/resources/conf/templates/" + rendered + ".j2"
	if b, err := p.ws.Read(tpl); err == nil {
		if m := itemsLoop.FindSubmatch(b); m != nil {
			p.doc.Set(string(m[1]), "'http.origin-server'", neutralServer, rule)
		}
	}
	if !p.ws.Exists(rendered) {
		return nil
	}
	props, err := p.ws.Props(rendered)
	if err != nil {
		return err
	}
	props.Set("http.origin-server", neutralServer, rule)
	return nil
}

// hstsTarget is one place that decides hstsEnabled for a filter.
type hstsTarget struct {
	// literal false at [start, end) of the file
	start, end int
	// key is a {{ key }} value
	key string
	// list is the configuration list a {% for %} renders params from;
	// fallback: the literal sits in an {% if %} after that list.
	list     string
	fallback bool
	literal  string
}

// hsts turns on HTTP Strict Transport Security for every web app
// (HTTP-002): the deployment.toml key or list the app's template reads,
// or, where the template (or a static web.xml) fixes it to false, that
// value itself.
func (p *planner) hsts() {
	const rule = "HTTP-002"
	if !p.fails(rule) {
		return
	}
	var done []string
	listsDone := map[string]bool{}
	for _, w := range p.prod.WebApps {
		if w.HSTSEnabled {
			continue
		}
		b, err := p.ws.Read(w.File)
		if err != nil {
			p.manual(rule, w.Name+": "+err.Error())
			continue
		}
		targets := hstsTargets(b)
		if len(targets) == 0 {
			p.manual(rule, w.Name+": no HttpHeaderSecurityFilter to turn HSTS on in ("+w.File+"): add one, or send Strict-Transport-Security at the load balancer")
			continue
		}
		changed := false
		for _, t := range targets {
			switch {
			case t.key != "":
				p.setKey(t.key, true, rule)
				changed = true
			case t.list != "":
				if listsDone[t.list] {
					changed = true
					continue
				}
				listsDone[t.list] = true
				if p.hstsList(t.list, rule) {
					changed = true
				}
			case t.literal == "false":
				doc, err := p.ws.Text(w.File)
				if err != nil {
					p.failed(rule, err)
					continue
				}
				doc.Replace(t.start, t.end, "true", rule, "hstsEnabled ("+path.Base(w.File)+")")
				changed = true
			}
		}
		if changed {
			done = append(done, w.Name)
		}
	}
	if len(done) > 0 {
		p.fixed(rule, "hstsEnabled = true for "+strings.Join(done, ", "),
			"HSTS makes browsers refuse plain HTTP to this host for the max-age: serve every name of it over HTTPS first")
	}
}

// hstsList makes a configuration list of filter parameters give
// hstsEnabled = true: the list's own entry changed, or one added. A list
// only the shipped defaults hold is written out whole (a list in
// deployment.toml replaces the default one).
func (p *planner) hstsList(list, rule string) bool {
	n := p.doc.ArrayLen(list)
	if n > 0 {
		for i := 0; i < n; i++ {
			el := list + "[" + itoa(i) + "]"
			if v, _, _ := p.doc.Lookup(el + ".name"); v == "hstsEnabled" {
				p.doc.Set(el, "value", "true", rule)
				return true
			}
		}
		p.doc.AppendArrayElement(list, []tomledit.KV{{Key: "name", Value: "hstsEnabled"}, {Key: "value", Value: "true"}}, rule)
		p.doc.AppendArrayElement(list, []tomledit.KV{{Key: "name", Value: "hstsMaxAgeSeconds"}, {Key: "value", Value: "31536000"}}, rule)
		return true
	}
	var kept []map[string]any
	if e, ok := p.eff.Config.Entry(list); ok {
		items, _ := e.Value.([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				kept = append(kept, m)
			}
		}
	}
	seenEnabled, seenAge := false, false
	for _, m := range kept {
		name, _ := m["name"].(string)
		val := m["value"]
		switch name {
		case "hstsEnabled":
			seenEnabled, val = true, "true"
		case "hstsMaxAgeSeconds":
			seenAge = true
		}
		p.doc.AppendArrayElement(list, []tomledit.KV{{Key: "name", Value: name}, {Key: "value", Value: tomlScalar(val)}}, rule)
	}
	if !seenEnabled {
		p.doc.AppendArrayElement(list, []tomledit.KV{{Key: "name", Value: "hstsEnabled"}, {Key: "value", Value: "true"}}, rule)
	}
	if !seenAge {
		p.doc.AppendArrayElement(list, []tomledit.KV{{Key: "name", Value: "hstsMaxAgeSeconds"}, {Key: "value", Value: "31536000"}}, rule)
	}
	return true
}

func tomlScalar(v any) tomledit.Value {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return x
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return ""
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

// filterBlocks returns the byte ranges of the <filter> elements' bodies.
func filterBlocks(src []byte) [][2]int {
	var out [][2]int
	open, close := []byte("<filter>"), []byte("</filter>")
	for off := 0; ; {
		i := bytes.Index(src[off:], open)
		if i < 0 {
			return out
		}
		start := off + i + len(open)
		j := bytes.Index(src[start:], close)
		if j < 0 {
			return out
		}
		out = append(out, [2]int{start, start + j})
		off = start + j + len(close)
	}
}

// hstsTargets finds, in a web.xml or its template, what decides
// hstsEnabled in each HttpHeaderSecurityFilter.
func hstsTargets(b []byte) []hstsTarget {
	// HSTS in web.xml and its templates.
	classRe := regexp.MustCompile(`(?s)<filter-class>\s*(.*?)\s*</filter-class>`)
	tokenRe := regexp.MustCompile(`(?s)\{%-?\s*(for|endfor|if|endif)\b(.*?)-?%\}|<init-param>(.*?)</init-param>`)
	forRe := regexp.MustCompile(`^\s*(\w+)\s+in\s+([\w.'\[\]]+)\s*$`)
	nameRe := regexp.MustCompile(`(?s)<param-name>\s*(.*?)\s*</param-name>`)
	valueRe := regexp.MustCompile(`(?s)<param-value>\s*(.*?)\s*</param-value>`)
	jinjaKeyRe := regexp.MustCompile(`^\{\{\s*([\w.']+)\s*(?:\|[^}]*)?\}\}$`)
	commentBlank := regexp.MustCompile(`(?s)<!--.*?-->|\{#.*?#\}`)
	src := commentBlank.ReplaceAllFunc(b, func(m []byte) []byte {
		out := make([]byte, len(m))
		for i, c := range m {
			if c == '\n' {
				out[i] = '\n'
			} else {
				out[i] = ' '
			}
		}
		return out
	})
	var out []hstsTarget
	for _, fm := range filterBlocks(src) {
		body := src[fm[0]:fm[1]]
		off := fm[0]
		if c := classRe.FindSubmatch(body); c == nil || !strings.HasSuffix(string(c[1]), "HttpHeaderSecurityFilter") {
			continue
		}
		type frame struct{ kind, loopVar, list string }
		var stack []frame
		lastList := ""
		for _, t := range tokenRe.FindAllSubmatchIndex(body, -1) {
			if t[2] >= 0 {
				switch string(body[t[2]:t[3]]) {
				case "for":
					fr := frame{kind: "for"}
					if m := forRe.FindSubmatch(body[t[4]:t[5]]); m != nil {
						fr.loopVar, fr.list = string(m[1]), string(m[2])
						lastList = fr.list
					}
					stack = append(stack, fr)
				case "if":
					stack = append(stack, frame{kind: "if"})
				case "endfor", "endif":
					if len(stack) > 0 {
						stack = stack[:len(stack)-1]
					}
				}
				continue
			}
			ip := body[t[6]:t[7]]
			ipOff := off + t[6]
			pn := nameRe.FindSubmatch(ip)
			pv := valueRe.FindSubmatchIndex(ip)
			if pn == nil || pv == nil {
				continue
			}
			inLoop, inIf := "", false
			for _, fr := range stack {
				switch fr.kind {
				case "for":
					if fr.list != "" && strings.Contains(string(pn[1]), fr.loopVar+".") {
						inLoop = fr.list
					}
				case "if":
					inIf = true
				}
			}
			if inLoop != "" {
				out = append(out, hstsTarget{list: inLoop})
				continue
			}
			if string(pn[1]) != "hstsEnabled" {
				continue
			}
			val := string(ip[pv[2]:pv[3]])
			if m := jinjaKeyRe.FindStringSubmatch(val); m != nil {
				out = append(out, hstsTarget{key: m[1]})
				continue
			}
			if inIf && lastList != "" {
				out = append(out, hstsTarget{list: lastList, fallback: true, literal: val})
				continue
			}
			out = append(out, hstsTarget{start: ipOff + pv[2], end: ipOff + pv[3], literal: strings.ToLower(val)})
		}
	}
	return out
}
