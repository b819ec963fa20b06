package wso2

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// tomcatAll is what Tomcat's "all" protocol alias enables.
var tomcatAll = []string{"SSLv2Hello", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// normProtocol names a protocol the way facts do: TLSv1 -> TLSv1.0,
// SSLV3 -> SSLv3. Unknown names are kept.
func normProtocol(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "tlsv1", "tlsv1.0", "tls1", "tls1.0":
		return "TLSv1.0"
	case "tlsv1.1", "tls1.1":
		return "TLSv1.1"
	case "tlsv1.2", "tls1.2":
		return "TLSv1.2"
	case "tlsv1.3", "tls1.3":
		return "TLSv1.3"
	case "sslv3", "ssl", "sslv3.0":
		return "SSLv3"
	case "sslv2", "sslv2.0":
		return "SSLv2"
	case "sslv2hello":
		return "SSLv2Hello"
	}
	return s
}

// parseProtocols reads a protocol list: comma/space/plus separated names
// with Tomcat's +name/-name and "all" rules, or a TOML list.
func parseProtocols(v string) []string {
	set := map[string]bool{}
	var order []string
	add := func(p string) {
		if !set[p] {
			set[p] = true
			order = append(order, p)
		}
	}
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		// "TLSv1.2+TLSv1.3" is also accepted by Tomcat.
		parts := splitPlus(tok)
		for _, p := range parts {
			remove := strings.HasPrefix(p, "-")
			p = strings.TrimLeft(p, "+-")
			if p == "" {
				continue
			}
			var names []string
			if strings.EqualFold(p, "all") {
				names = tomcatAll
			} else {
				names = []string{normProtocol(p)}
			}
			for _, n := range names {
				if remove {
					delete(set, n)
					continue
				}
				add(n)
			}
		}
	}
	out := []string{}
	for _, p := range order {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

// splitPlus splits "+TLSv1.2+TLSv1.3" or "TLSv1.2+TLSv1.3" into signed parts.
func splitPlus(tok string) []string {
	var out []string
	start := 0
	for i := 1; i < len(tok); i++ {
		if tok[i] == '+' || tok[i] == '-' {
			// a '-' inside a name (none exist for protocols) would split; fine.
			out = append(out, tok[start:i])
			start = i
		}
	}
	return append(out, tok[start:])
}

func parseCiphers(v string) []string {
	out := []string{}
	for _, c := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ':' || r == '\n' }) {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// tlsListeners lists the TLS transports the configuration enables: the
// product's listeners as products.yaml describes them, each with its
// protocol and cipher lists from the configuration, else from the rendered
// file, else unset (the JVM's defaults).
func (p *product) tlsListeners() []facts.TLSListener {
	var out []facts.TLSListener
	off := p.offset()
	for _, name := range p.kb.ListenerNames() {
		def := p.kb.Listeners[name]
		if !p.listenerOn(def) {
			continue
		}
		port := 0
		if def.Port != nil {
			port = p.portAt(def.Port.Key, def.Port.Default) + off
		}
		l, ok := p.listener(name, port, def.Protocols, def.Ciphers, p.renderedTLS(def.Rendered))
		if !ok {
			continue
		}
		if def.NoSetting != "" {
			key := ""
			if def.Port != nil {
				key = def.Port.Key
			}
			l.NoSetting = true
			l.Origin = facts.Origin{Key: key, Note: def.NoSetting}
		}
		if def.ContextProtocol != "" {
			if v, ok := p.raw(def.ContextProtocol); ok {
				l.Origin.Note = strings.TrimPrefix(l.Origin.Note+"; "+lastSegment(def.ContextProtocol)+" = "+strings.TrimSpace(v)+" names the SSL context only; "+lastSegment(def.Protocols)+" decides what is offered", "; ")
			}
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// listenerOn: a listener with conditions runs only when one of its
// when_set keys is set and all its when_true switches are on.
func (p *product) listenerOn(def *wso2kb.Listener) bool {
	if len(def.WhenSet) > 0 && !slices.ContainsFunc(def.WhenSet, p.cfg.Has) {
		return false
	}
	for _, k := range def.WhenTrue {
		if on, _ := p.boolean(k); !on {
			return false
		}
	}
	return true
}

// lastSegment is the part of a key after its last dot.
func lastSegment(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[i+1:]
	}
	return key
}

type renderedLists func() (protos, ciphers string, po, co facts.Origin)

// renderedTLS reads a listener's lists from the file it is rendered into.
func (p *product) renderedTLS(source string) renderedLists {
	switch source {
	case wso2kb.RenderedCatalina:
		return p.catalinaTLS
	case wso2kb.RenderedAxis2Receiver:
		return p.axis2Param("transportReceiver", "https")
	case wso2kb.RenderedAxis2Sender:
		return p.axis2Param("transportSender", "https")
	}
	return nil
}

// listener reads one listener's protocol and cipher lists. ok is false
// when no list is set and the product's defaults are not at hand: the
// list is then unknown, not empty, and the listener is left out with a
// note.
func (p *product) listener(name string, port int, protoKey, cipherKey string, xml renderedLists) (facts.TLSListener, bool) {
	l := facts.TLSListener{Name: name, Port: port, Protocols: []string{}, Ciphers: []string{}}
	protoSet, cipherSet := false, false
	var unresolved []string
	if protoKey != "" {
		if v, ok := p.cfg.Lookup(protoKey); ok {
			text := p.expand(v.Text())
			if u := p.unresolved(text); u != "" {
				unresolved = append(unresolved, "protocols: "+u)
			} else {
				l.Protocols = parseProtocols(text)
			}
			l.Origin = p.origin(v.Source)
			protoSet = true
		}
	}
	if cipherKey != "" {
		if v, ok := p.cfg.Lookup(cipherKey); ok && strings.TrimSpace(v.Text()) != "" {
			text := p.expand(v.Text())
			if u := p.unresolved(text); u != "" {
				unresolved = append(unresolved, "ciphers: "+u)
			} else {
				l.Ciphers = parseCiphers(text)
			}
			l.CiphersOrigin = p.origin(v.Source)
			cipherSet = true
		}
	}
	l.Unresolved = strings.Join(unresolved, "; ")
	if xml != nil && (!protoSet || !cipherSet) {
		protos, ciphers, po, co := xml()
		if !protoSet && protos != "" {
			l.Protocols, l.Origin, protoSet = parseProtocols(protos), po, true
		}
		if !cipherSet && ciphers != "" {
			l.Ciphers, l.CiphersOrigin = parseCiphers(ciphers), co
		}
	}
	if !protoSet && !p.defaults {
		// Without the shipped defaults an unset list is unknown, not empty.
		p.notes = append(p.notes, name+": protocol list unknown (not in deployment.toml, no default.json, no rendered file)")
		return l, false
	}
	if !protoSet && l.Origin.IsZero() {
		l.Origin = facts.Origin{Key: protoKey, Note: "no protocol list configured: the JVM defaults apply"}
	}
	return l, true
}

// catalinaTLS reads the HTTPS connector of the rendered catalina-server.xml.
func (p *product) catalinaTLS() (string, string, facts.Origin, facts.Origin) {
	f := p.det.path(p.kb.Files.Catalina)
	c, ok := p.httpsConnector(f)
	if !ok {
		return "", "", facts.Origin{}, facts.Origin{}
	}
	protos, ciphers := c.Attrs["sslEnabledProtocols"], c.Attrs["ciphers"]
	po := facts.Origin{File: f, Line: c.Line, Note: "rendered file"}
	co := po
	if h := c.Child("SSLHostConfig"); h != nil {
		if v := h.Attrs["protocols"]; v != "" {
			protos, po = v, facts.Origin{File: f, Line: h.Line, Note: "rendered file"}
		}
		if v := h.Attrs["ciphers"]; v != "" {
			ciphers, co = v, facts.Origin{File: f, Line: h.Line, Note: "rendered file"}
		}
	}
	return protos, ciphers, po, co
}

// httpsConnector finds the SSL connector of a catalina-server.xml.
func (p *product) httpsConnector(f string) (*xmlconf.Node, bool) {
	doc := p.xml(f)
	if doc == nil {
		return nil, false
	}
	for _, c := range doc.All("Connector") {
		if strings.EqualFold(c.Attrs["SSLEnabled"], "true") || c.Child("SSLHostConfig") != nil || c.Attrs["scheme"] == "https" {
			return c, true
		}
	}
	return nil, false
}

func (p *product) httpConnector(f string) (*xmlconf.Node, bool) {
	doc := p.xml(f)
	if doc == nil {
		return nil, false
	}
	for _, c := range doc.All("Connector") {
		if !(strings.EqualFold(c.Attrs["SSLEnabled"], "true") || c.Child("SSLHostConfig") != nil || c.Attrs["scheme"] == "https") {
			return c, true
		}
	}
	return nil, false
}

// axis2Param reads HttpsProtocols/PreferredCiphers of an axis2.xml
// transport (the PassThrough listener or sender).
func (p *product) axis2Param(kind, name string) renderedLists {
	return func() (string, string, facts.Origin, facts.Origin) {
		f := p.det.path(p.kb.Files.Axis2)
		doc := p.xml(f)
		if doc == nil {
			return "", "", facts.Origin{}, facts.Origin{}
		}
		for _, t := range doc.All(kind) {
			if t.Attrs["name"] != name {
				continue
			}
			var protos, ciphers string
			var po, co facts.Origin
			for _, prm := range t.All("parameter") {
				switch prm.Attrs["name"] {
				case "HttpsProtocols":
					protos, po = prm.Text, facts.Origin{File: f, Line: prm.Line, Note: "rendered file"}
				case "PreferredCiphers":
					ciphers, co = prm.Text, facts.Origin{File: f, Line: prm.Line, Note: "rendered file"}
				}
			}
			return protos, ciphers, po, co
		}
		return "", "", facts.Origin{}, facts.Origin{}
	}
}

// xml parses a rendered XML file once; nil when absent or malformed.
func (p *product) xml(f string) *xmlconf.Node {
	if p.xmlCache == nil {
		p.xmlCache = map[string]*xmlconf.Node{}
	}
	if doc, ok := p.xmlCache[f]; ok {
		return doc
	}
	var doc *xmlconf.Node
	if b, err := p.h.read(f); err == nil {
		if d, err := xmlconf.Parse(b); err == nil {
			doc = d
		} else {
			p.notes = append(p.notes, f+": "+err.Error())
		}
	}
	p.xmlCache[f] = doc
	return doc
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
