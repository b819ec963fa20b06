package wso2

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/rampart-sec/rampart/internal/facts"
)

// The product renders every web.xml that has a template from that
// template at start-up, so the template, evaluated over the effective
// configuration, says what the filters will be. This file reads the
// servlet filters of a web.xml.j2 without a Jinja engine: the filter
// blocks, their init-params and the three shapes WSO2's templates use for
// them (the forms below are all the fixtures hold):
//
//	<param-value>{{ http_header_security_filter.hsts.enabled }}</param-value>   a key (kernel 4.9+, IS 6+)
//	{% for p in tomcat.header_security_filters %} <param-name>{{p.name}}...    a list of name/value (API-M 4.x)
//	{% if not ns.hstsEnabledFound %} <init-param>hstsEnabled=false ...        a fallback for a name the list lacks (IS 7)

// tplParam is one init-param of a template filter.
type tplParam struct {
	name string
	// literal is the value written in the template; key the configuration
	// key of a {{ key }} value, with def its | default('...') if any.
	literal string
	key     string
	def     *string
	line    int
	// fallback is true inside an {% if %} block: the template renders it
	// only when the list did not give that parameter.
	fallback bool
}

// tplFilter is one <filter> of a template.
type tplFilter struct {
	name, class string
	line        int
	// items are the init-params in document order: single parameters and
	// {% for %} loops rendering a configuration list of name/value pairs.
	items []tplItem
}

type tplItem struct {
	param *tplParam
	list  *tplList
}

type tplList struct {
	key  string
	line int
}

// tplPatterns are the template reader's patterns, compiled on first use
// (a scan that reads no template compiles none).
type tplPatterns struct {
	xmlComment, filterBlock, filterClass, filterName, filterTokens, forClause, paramName, paramValue, jinjaExpr *regexp.Regexp
}

var tplCompiled struct {
	once sync.Once
	re   *tplPatterns
}

func tplRE() *tplPatterns {
	tplCompiled.once.Do(func() { tplCompiled.re = compileTemplatePatterns() })
	return tplCompiled.re
}

func compileTemplatePatterns() *tplPatterns {
	return &tplPatterns{
		xmlComment:   regexp.MustCompile(`(?s)<!--.*?-->|\{#.*?#\}`),
		filterBlock:  regexp.MustCompile(`(?s)<filter>(.*?)</filter>`),
		filterClass:  regexp.MustCompile(`(?s)<filter-class>\s*(.*?)\s*</filter-class>`),
		filterName:   regexp.MustCompile(`(?s)<filter-name>\s*(.*?)\s*</filter-name>`),
		filterTokens: regexp.MustCompile(`(?s)\{%-?\s*(for|endfor|if|endif)\b(.*?)-?%\}|<init-param>(.*?)</init-param>`),
		forClause:    regexp.MustCompile(`^\s*(\w+)\s+in\s+([\w.'\[\]]+)\s*$`),
		paramName:    regexp.MustCompile(`(?s)<param-name>\s*(.*?)\s*</param-name>`),
		paramValue:   regexp.MustCompile(`(?s)<param-value>\s*(.*?)\s*</param-value>`),
		jinjaExpr:    regexp.MustCompile(`^\{\{\s*([\w.']+)\s*(?:\|\s*default\(\s*(?:'([^']*)'|"([^"]*)"|([\w.]+))\s*\))?\s*\}\}\}?$`),
	}
}

// blank replaces a match with spaces, keeping its newlines, so offsets and
// line numbers of the rest stay right.
func blank(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		return ' '
	}, s)
}

// parseTemplateFilters lists the <filter> blocks of a web.xml template.
func parseTemplateFilters(tpl string) []tplFilter {
	re := tplRE()
	xmlComment, filterBlock, filterClass, filterName, filterTokens := re.xmlComment, re.filterBlock, re.filterClass, re.filterName, re.filterTokens
	forClause, paramName, paramValue, jinjaExpr := re.forClause, re.paramName, re.paramValue, re.jinjaExpr
	tpl = xmlComment.ReplaceAllStringFunc(tpl, blank)
	lineAt := lineCounter(tpl)
	var out []tplFilter
	for _, m := range filterBlock.FindAllStringSubmatchIndex(tpl, -1) {
		body, off := tpl[m[2]:m[3]], m[2]
		f := tplFilter{line: lineAt(m[0])}
		if c := filterClass.FindStringSubmatch(body); c != nil {
			f.class = c[1]
		}
		if n := filterName.FindStringSubmatch(body); n != nil {
			f.name = n[1]
		}
		// Walk the block's Jinja tags and init-params in order.
		type frame struct {
			kind, loopVar, listKey string
		}
		var stack []frame
		for _, t := range filterTokens.FindAllStringSubmatchIndex(body, -1) {
			if t[2] >= 0 {
				switch body[t[2]:t[3]] {
				case "for":
					fr := frame{kind: "for"}
					if fm := forClause.FindStringSubmatch(body[t[4]:t[5]]); fm != nil {
						fr.loopVar, fr.listKey = fm[1], fm[2]
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
			pn, pvi := paramName.FindStringSubmatch(ip), paramValue.FindStringSubmatchIndex(ip)
			if pn == nil || pvi == nil {
				continue
			}
			pv := []string{ip[pvi[0]:pvi[1]], ip[pvi[2]:pvi[3]]}
			line := lineAt(off + t[6] + pvi[0]) // the <param-value> line
			inLoop, inIf := "", false
			for _, fr := range stack {
				switch fr.kind {
				case "for":
					if fr.listKey != "" && strings.Contains(pn[1], fr.loopVar+".") {
						inLoop = fr.listKey
					}
				case "if":
					inIf = true
				}
			}
			if inLoop != "" {
				if n := len(f.items); n == 0 || f.items[n-1].list == nil || f.items[n-1].list.key != inLoop {
					f.items = append(f.items, tplItem{list: &tplList{key: inLoop, line: line}})
				}
				continue
			}
			p := tplParam{name: pn[1], line: line, fallback: inIf}
			if e := jinjaExpr.FindStringSubmatchIndex(pv[1]); e != nil {
				p.key = pv[1][e[2]:e[3]]
				for g := 4; g < len(e); g += 2 {
					if e[g] >= 0 {
						d := pv[1][e[g]:e[g+1]]
						p.def = &d
						break
					}
				}
			} else {
				p.literal = pv[1]
			}
			f.items = append(f.items, tplItem{param: &p})
		}
		out = append(out, f)
	}
	return out
}

// lineCounter returns a function giving the 1-based line of an offset.
func lineCounter(s string) func(int) int {
	var starts []int
	starts = append(starts, 0)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return func(off int) int {
		lo, hi := 0, len(starts)
		for lo+1 < hi {
			mid := (lo + hi) / 2
			if starts[mid] <= off {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo + 1
	}
}

// renderedParam is an init-param's value as the template renders it.
type renderedParam struct {
	value  string
	origin facts.Origin
}

// renderFilterParams evaluates a template filter's init-params over the
// effective configuration. Tomcat keeps the first definition of a
// parameter name, so an {% if %} fallback after a list (IS 7: hstsEnabled
// false unless the list gives it) only counts when the list lacks it.
func (p *product) renderFilterParams(f tplFilter, tf string) map[string]renderedParam {
	out := map[string]renderedParam{}
	for _, it := range f.items {
		if prm := it.param; prm != nil {
			if _, given := out[prm.name]; given {
				continue
			}
			r := p.renderParam(*prm, tf)
			if prm.fallback {
				r.origin.Note = strings.TrimSpace(r.origin.Note + "; the template's fallback when the configuration gives no " + prm.name)
			}
			out[prm.name] = r
			continue
		}
		l := it.list
		e, ok := p.cfg.Entry(l.key)
		if !ok {
			continue // an undefined list renders no parameter
		}
		list, _ := e.Value.([]any)
		for _, el := range list {
			m, ok := el.(map[string]any)
			if !ok {
				continue
			}
			name := strings.TrimSpace(toString(m["name"]))
			if _, given := out[name]; name == "" || given {
				continue
			}
			o := p.origin(e)
			o.Note = strings.TrimSpace(o.Note + " (the " + l.key + " list, rendered by " + baseName(tf) + ":" + strconv.Itoa(l.line) + ")")
			out[name] = renderedParam{value: toString(m["value"]), origin: o}
		}
	}
	return out
}

func (p *product) renderParam(prm tplParam, tf string) renderedParam {
	if prm.key == "" {
		return renderedParam{value: prm.literal, origin: facts.Origin{File: tf, Line: prm.line, Note: "fixed in the template"}}
	}
	if v, ok := p.cfg.Lookup(prm.key); ok {
		o := p.origin(v.Source)
		if v.Source.Key != prm.key {
			o.Note = strings.TrimSpace(o.Note + " via $ref{" + v.Source.Key + "} of " + prm.key)
		}
		return renderedParam{value: p.expand(v.Text()), origin: o}
	}
	if prm.def != nil {
		return renderedParam{value: *prm.def, origin: facts.Origin{File: tf, Line: prm.line, Key: prm.key, Note: prm.key + " not set: the template's default"}}
	}
	// Jinja renders an undefined value as nothing; Tomcat reads an empty
	// boolean as false.
	return renderedParam{origin: facts.Origin{File: tf, Line: prm.line, Key: prm.key, Note: prm.key + " not set: rendered empty"}}
}

// webAppFromTemplate evaluates the HttpHeaderSecurityFilter and cache
// filters of a web.xml template. HSTS is on only when every
// HttpHeaderSecurityFilter enables it (Tomcat's own default is on).
func (p *product) webAppFromTemplate(name, tf, tpl string) facts.WebApp {
	w := facts.WebApp{Name: name, File: tf}
	nFilters, allOn := 0, true
	var onOrigin facts.Origin
	for _, f := range parseTemplateFilters(tpl) {
		if strings.Contains(f.class, "CachePreventionFilter") {
			w.CachePrevention = true
		}
		if !strings.HasSuffix(f.class, "HttpHeaderSecurityFilter") {
			continue
		}
		nFilters++
		params := p.renderFilterParams(f, tf)
		h, ok := params["hstsEnabled"]
		on := !ok || strings.EqualFold(strings.TrimSpace(h.value), "true")
		switch {
		case !on && allOn:
			w.Origin = h.origin
		case on && onOrigin.IsZero():
			onOrigin = h.origin
			if !ok {
				onOrigin = facts.Origin{File: tf, Line: f.line, Note: "hstsEnabled not set: Tomcat's default (on)"}
			}
		}
		if on {
			if a, ok := params["hstsMaxAgeSeconds"]; ok {
				w.HSTSMaxAge, _ = strconv.ParseInt(strings.TrimSpace(a.value), 10, 64)
			}
		}
		allOn = allOn && on
	}
	w.HSTSEnabled = nFilters > 0 && allOn
	switch {
	case nFilters == 0:
		w.Origin = facts.Origin{File: tf, Note: "no HttpHeaderSecurityFilter"}
	case allOn:
		w.Origin = onOrigin
	}
	return w
}
