package wso2fix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/fix/tomledit"
)

// strongProtocols are what every listener is restricted to.
var strongProtocols = []string{"TLSv1.2", "TLSv1.3"}

// strongCiphers are AEAD suites with forward secrecy, TLS 1.3's first
// (JSSE needs them listed for TLS 1.3 to be offered at all).
var strongCiphers = []string{
	"TLS_AES_256_GCM_SHA384",
	"TLS_AES_128_GCM_SHA256",
	"TLS_CHACHA20_POLY1305_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// listenerKeys are the keys (as the collector names them) of each TLS
// listener's protocol and cipher lists.
func listenerKeys(name string) ([2]string, bool) {
	switch name {
	case "https":
		return [2]string{"transport.https.sslHostConfig.properties.protocols", "transport.https.sslHostConfig.properties.ciphers"}, true
	case "passthru-https":
		return [2]string{"transport.passthru_https.listener.parameters.HttpsProtocols", "transport.passthru_https.listener.parameters.PreferredCiphers"}, true
	case "passthru-https-sender":
		return [2]string{"transport.passthru_https.sender.parameters.HttpsProtocols", ""}, true
	case "binary-receiver":
		return [2]string{"transport.binary.receiver.sslEnabledProtocols", "transport.binary.receiver.ciphers"}, true
	case "websocket-wss":
		return [2]string{"apim.wss.ssl_enabled_protocols", "apim.wss.ciphers"}, true
	case "amqp-tls":
		return [2]string{"broker.transport.amqp.ssl_connection.ssl_enabled_protocols", "broker.transport.amqp.ssl_connection.ciphers"}, true
	case "mi-https":
		return [2]string{"transport.https.listener.parameter.HttpsProtocols", "transport.https.listener.parameter.PreferredCiphers"}, true
	case "mi-https-sender":
		return [2]string{"transport.https.sender.parameter.HttpsProtocols", ""}, true
	case "internal-api":
		return [2]string{"internal_api_ssl_config.parameter.httpsProtocols", "internal_api_ssl_config.parameter.PreferredCiphers"}, true
	}
	return [2]string{}, false
}

// cipherChecked reports whether TLS-005 judges the listener's ciphers.
func cipherChecked(name string) bool {
	switch name {
	case "https", "passthru-https", "mi-https", "internal-api":
		return true
	}
	return false
}

func strongOnly(ps []string) bool {
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if p != "TLSv1.2" && p != "TLSv1.3" {
			return false
		}
	}
	return true
}

func forwardSecret(cs []string) bool {
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if !(strings.HasPrefix(c, "TLS_ECDHE_") || strings.HasPrefix(c, "TLS_DHE_") || strings.HasPrefix(c, "TLS_AES_") || strings.HasPrefix(c, "TLS_CHACHA20_")) {
			return false
		}
	}
	return true
}

// listValue writes a list in the type the shipped default has: a TOML
// array where default.json has one, else a comma-separated string.
func (p *planner) listValue(key string, items []string) tomledit.Value {
	if e, ok := p.eff.Config.Entry(key); ok {
		if _, isList := e.Value.([]any); isList {
			return items
		}
	}
	return strings.Join(items, ",")
}

// tlsListeners restricts every TLS listener to TLS 1.2 and 1.3 (TLS-002,
// TLS-011) and gives it an explicit list of AEAD suites with forward
// secrecy (TLS-005, TLS-012).
func (p *planner) tlsListeners() {
	weakCipher := regexp.MustCompile(`(?i)(NULL|_anon_|EXPORT|_DES_|DES40|3DES|DES_EDE|RC4|RC2|IDEA|_MD5$|_CBC_)`)
	protoRules := failingOf(p, "TLS-002", "TLS-011")
	cipherRules := failingOf(p, "TLS-004", "TLS-005", "TLS-007", "TLS-012")
	if len(protoRules) == 0 && len(cipherRules) == 0 {
		return
	}
	var protoFixed, cipherFixed []string
	for _, l := range p.prod.TLSListeners {
		if l.NoSetting {
			// No setting exists (API-M's WebSub endpoint): the JVM's
			// defaults decide, TLS 1.0/1.1 off from JDK 8u291, 11.0.11, 16.
			if p.fails("TLS-002") && p.prod.Java.Major < 16 {
				p.manual("TLS-002", l.Name+" has no protocol setting, so the JVM's defaults apply: run the product on JDK 11.0.11+, 17 or 21 (they leave TLS 1.0/1.1 off)")
			}
			continue
		}
		if l.Unresolved != "" {
			for _, r := range append(protoRules, cipherRules...) {
				p.manual(r, l.Name+": "+l.Unresolved+" (set where that value comes from)")
			}
			continue
		}
		keys, known := listenerKeys(l.Name)
		if len(protoRules) > 0 && !strongOnly(l.Protocols) {
			if !known || keys[0] == "" {
				for _, r := range protoRules {
					p.manual(r, "listener "+l.Name+": no configuration key is known for its protocol list")
				}
			} else {
				tag := strings.Join(protoRules, ",")
				p.setKey(keys[0], p.listValue(keys[0], strongProtocols), tag)
				if l.Name == "internal-api" {
					if v, ok := p.raw("internal_api_ssl_config.parameter.sslProtocol"); ok && !strings.EqualFold(strings.TrimSpace(v), "TLS") {
						p.setKey("internal_api_ssl_config.parameter.sslProtocol", "TLS", tag)
					}
				}
				protoFixed = append(protoFixed, l.Name)
			}
		}
		weak, dss := false, false
		for _, c := range l.Ciphers {
			weak = weak || weakCipher.MatchString(c)
			dss = dss || strings.Contains(c, "_DSS_")
		}
		needCiphers := (p.fails("TLS-005") && cipherChecked(l.Name) && !forwardSecret(l.Ciphers)) ||
			((p.fails("TLS-012") || p.fails("TLS-004")) && weak) || (p.fails("TLS-007") && dss)
		if len(cipherRules) > 0 && needCiphers {
			if !known || keys[1] == "" {
				for _, r := range cipherRules {
					p.manual(r, "listener "+l.Name+": no configuration key is known for its cipher list")
				}
				continue
			}
			p.setKey(keys[1], p.listValue(keys[1], strongCiphers), strings.Join(cipherRules, ","))
			cipherFixed = append(cipherFixed, l.Name)
		}
	}
	for _, r := range protoRules {
		if len(protoFixed) > 0 {
			p.fixed(r, "TLSv1.2 and TLSv1.3 only on "+strings.Join(protoFixed, ", "))
		}
	}
	for _, r := range cipherRules {
		if len(cipherFixed) > 0 {
			p.fixed(r, "AEAD suites with forward secrecy only on "+strings.Join(cipherFixed, ", "),
				"clients that offer only CBC or static-RSA suites can no longer connect; check them before the restart")
		}
	}
}

// senderVerification makes the outbound PassThrough sender verify host
// names strictly (TLS-013's file check); the JVM flag is jvmFlags' part.
func (p *planner) senderVerification() {
	const rule = "TLS-013"
	if !p.fails(rule) {
		return
	}
	var done []string
	for _, s := range p.prod.SenderHostnameVerifiers {
		if s.Value == "Strict" {
			continue
		}
		p.setKey(s.Key, "Strict", rule)
		done = append(done, s.Key+" = Strict")
	}
	if len(done) > 0 {
		p.fixed(rule, strings.Join(done, ", "), "outbound calls to back ends whose certificates do not name the host called will fail: fix those certificates first")
	}
}

// databaseTLS asks for encrypted, verified connections to external
// databases (TLS-014) where the URL's parameter is known, and StartTLS to
// a plain LDAP user store.
func (p *planner) databaseTLS() {
	const rule = "TLS-014"
	if !p.fails(rule) {
		return
	}
	var done []string
	for _, d := range p.prod.Datasources {
		if d.Embedded || d.TLS {
			continue
		}
		key := datasourceURLKey(p, d)
		u, ok := p.raw(key)
		if key == "" || !ok {
			p.manual(rule, "datasource "+d.Name+": its URL is not in deployment.toml's reach")
			continue
		}
		nu, ok := tlsURL(d.Driver, u)
		if !ok {
			p.manual(rule, fmt.Sprintf("datasource %s (%s): enable TLS in its JDBC URL as the driver documents", d.Name, d.Driver))
			continue
		}
		p.setKey(key, nu, rule)
		done = append(done, d.Name)
	}
	for _, us := range p.prod.UserStores {
		if !us.External || us.Disabled || us.TLS {
			continue
		}
		if us.Name != "primary" {
			p.manual(rule, "secondary user store "+us.Name+": set <Property name=\"StartTLSEnabled\">true</Property> or an ldaps:// URL in its file")
			continue
		}
		p.setKey("user_store.properties.StartTLSEnabled", true, rule)
		done = append(done, "the primary user store (StartTLS)")
	}
	if len(done) > 0 {
		p.fixed(rule, "TLS asked for: "+strings.Join(done, ", "),
			"the database and directory servers must offer TLS with a certificate the product's truststore trusts, or the product will not connect")
	}
}

// datasourceURLKey is the key holding a datasource's URL.
func datasourceURLKey(p *planner, d facts.Datasource) string {
	if d.Origin.Key != "" {
		return d.Origin.Key
	}
	return ""
}

// tlsURL rewrites a JDBC URL to require verified TLS, for the drivers
// whose parameters are well known.
func tlsURL(driver, u string) (string, bool) {
	switch driver {
	case "mysql", "mariadb":
		if mysqlTLSOff := regexp.MustCompile(`(?i)([?&])(useSSL|requireSSL)=false`); mysqlTLSOff.MatchString(u) {
			u = mysqlTLSOff.ReplaceAllString(u, "${1}${2}=true")
		}
		if strings.Contains(strings.ToLower(u), "sslmode=") {
			return u, true
		}
		return addParam(u, "sslMode=VERIFY_IDENTITY"), true
	case "postgresql":
		if strings.Contains(strings.ToLower(u), "sslmode=") {
			return regexp.MustCompile(`(?i)sslmode=[a-z-]+`).ReplaceAllString(u, "sslmode=verify-full"), true
		}
		return addParam(u, "sslmode=verify-full"), true
	case "sqlserver":
		if strings.Contains(strings.ToLower(u), "encrypt=") {
			return regexp.MustCompile(`(?i)encrypt=[a-z]+`).ReplaceAllString(u, "encrypt=true"), true
		}
		return strings.TrimSuffix(u, ";") + ";encrypt=true", true
	}
	return "", false
}

// addParam appends a URL parameter, XML-escaped when the URL already
// escapes its ampersands (it is rendered into an XML file).
func addParam(u, param string) string {
	sep := "&"
	if strings.Contains(u, "&amp;") {
		sep = "&amp;"
	}
	if strings.Contains(u, "?") {
		return u + sep + param
	}
	return u + "?" + param
}
