package wso2

import (
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
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

// tlsListeners lists the TLS transports the configuration enables.
func (p *product) tlsListeners() []facts.TLSListener {
	var out []facts.TLSListener
	off := p.offset()
	add := func(name string, port int, protoKey, cipherKey string, xml func() (string, string, facts.Origin, facts.Origin)) {
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
			return
		}
		if !protoSet && l.Origin.IsZero() {
			l.Origin = facts.Origin{Key: protoKey, Note: "no protocol list configured: the JVM defaults apply"}
		}
		out = append(out, l)
	}
	switch p.det.profile {
	case ProfileMI:
		add("mi-https", 8243+off, "transport.https.listener.parameter.HttpsProtocols", "transport.https.listener.parameter.PreferredCiphers",
			p.axis2Param("transportReceiver", "https"))
		if p.cfg.Has("transport.https.sender.parameter.HttpsProtocols") {
			add("mi-https-sender", 0, "transport.https.sender.parameter.HttpsProtocols", "", nil)
		}
		add("internal-api", 9154+off, "internal_api_ssl_config.parameter.httpsProtocols", "internal_api_ssl_config.parameter.PreferredCiphers", nil)
		// sslProtocol (shipped as "SSLV3") only names the JSSE SSLContext
		// the internal API asks for; a context of any name enables the
		// protocols its provider supports, and httpsProtocols decides which
		// of them the listener offers (SSLEngine.setEnabledProtocols). So
		// "SSLV3" does not offer SSLv3: it is noted, not counted.
		if v, ok := p.raw("internal_api_ssl_config.parameter.sslProtocol"); ok && len(out) > 0 && out[len(out)-1].Name == "internal-api" {
			l := &out[len(out)-1]
			l.Origin.Note = strings.TrimPrefix(l.Origin.Note+"; sslProtocol = "+strings.TrimSpace(v)+" names the SSL context only; httpsProtocols decides what is offered", "; ")
		}
	default:
		add("https", p.httpsBase()+off, "transport.https.sslHostConfig.properties.protocols", "transport.https.sslHostConfig.properties.ciphers", p.catalinaTLS)
		if p.det.profile == ProfileAPIM {
			add("passthru-https", 8243+off, "transport.passthru_https.listener.parameters.HttpsProtocols", "transport.passthru_https.listener.parameters.PreferredCiphers",
				p.axis2Param("transportReceiver", "https"))
			add("passthru-https-sender", 0, "transport.passthru_https.sender.parameters.HttpsProtocols", "", p.axis2Param("transportSender", "https"))
			if p.cfg.Has("transport.binary.receiver.sslEnabledProtocols") || p.cfg.Has("transport.binary.receiver.ciphers") {
				port := 9711 + off
				if n, ok := p.intRaw("transport.binary.receiver.sslPort"); ok {
					port = n + off
				}
				add("binary-receiver", port, "transport.binary.receiver.sslEnabledProtocols", "transport.binary.receiver.ciphers", nil)
			}
			if p.cfg.Has("apim.wss.ssl_enabled_protocols") {
				add("websocket-wss", 8099+off, "apim.wss.ssl_enabled_protocols", "apim.wss.ciphers", nil)
			}
			// The message broker's AMQP TLS listener (broker.xml, rendered
			// from broker.xml.j2): on by default, offered TLSv1 only.
			amqp, _ := p.boolean("broker.transport.amqp.enabled")
			amqpTLS, _ := p.boolean("broker.transport.amqp.ssl_connection.enabled")
			if amqp && amqpTLS {
				port := 8672 + off
				if n, ok := p.intRaw("broker.transport.amqp.ssl_connection.port"); ok {
					port = n + off
				}
				add("amqp-tls", port, "broker.transport.amqp.ssl_connection.ssl_enabled_protocols", "broker.transport.amqp.ssl_connection.ciphers", nil)
			}
			// The WebSub/WebHook HTTPS inbound endpoint (SecureWebhookServer,
			// rendered from its template): no protocol or cipher setting, so
			// the JVM's defaults apply.
			if p.cfg.Has("apim.webhooks.https.port") {
				port := 8021 + off
				if n, ok := p.intRaw("apim.webhooks.https.port"); ok {
					port = n + off
				}
				add("websub-https", port, "", "", nil)
				if n := len(out); n > 0 && out[n-1].Name == "websub-https" {
					out[n-1].NoSetting = true
					out[n-1].Origin = facts.Origin{Key: "apim.webhooks.https.port", Note: "the WebSub HTTPS endpoint has no protocol or cipher setting: the JVM's defaults apply"}
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// catalinaTLS reads the HTTPS connector of the rendered catalina-server.xml.
func (p *product) catalinaTLS() (string, string, facts.Origin, facts.Origin) {
	f := p.det.layout.path("tomcat/catalina-server.xml")
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
func (p *product) axis2Param(kind, name string) func() (string, string, facts.Origin, facts.Origin) {
	return func() (string, string, facts.Origin, facts.Origin) {
		f := p.det.layout.path("axis2/axis2.xml")
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
