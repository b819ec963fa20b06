package httpprobe

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// maxDisclosure caps the text kept of one disclosure.
const maxDisclosure = 160

// Headers whose mere presence discloses the platform.
var platformHeaders = []string{"X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator"}

// versionToken is a product token with a version ("nginx/1.22.1",
// "Apache/2.4.41", "Apache-Coyote/1.1", "Microsoft-IIS/10.0", "Jetty(9.4.1)").
var versionToken = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b[a-z][a-z0-9_.+-]*(?:/v?[0-9]+(?:\.[0-9a-z_-]+)*|\(v?[0-9]+\.[0-9][^)]*\))`)
})

// backendProduct names an application server or WSO2 product: a proxy
// that says "nginx" hides nothing, one that says "WSO2 Carbon Server" or
// "Apache-Coyote" names the product behind it.
var backendProduct = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(wso2|carbon|synapse|passthrough|tomcat|coyote|jetty|weblogic|websphere|jboss|wildfly|glassfish|payara|undertow|tomee|ballerina)`)
})

// DisclosingServer reports whether a Server (or Via) header value names a
// version or the product behind the front end. A bare front-end name such
// as "nginx", "Apache" or a neutral value is not a disclosure.
func DisclosingServer(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	return mayHaveVersionToken(v) && versionToken().MatchString(v) ||
		mayContainFold(v, backendWords) && backendProduct().MatchString(v)
}

// headerDisclosures returns what the headers of one response give away,
// as (where, value) pairs.
func headerDisclosures(h http.Header) [][2]string {
	var out [][2]string
	for _, v := range h.Values("Server") {
		if DisclosingServer(v) {
			out = append(out, [2]string{"header:Server", clip(v)})
		}
	}
	for _, name := range platformHeaders {
		for _, v := range h.Values(name) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, [2]string{"header:" + name, clip(v)})
			}
		}
	}
	for _, v := range h.Values("Via") {
		if vp := viaProducts(v); mayHaveVersionToken(vp) && versionToken().MatchString(vp) {
			out = append(out, [2]string{"header:Via", clip(v)})
		}
	}
	return out
}

// viaProducts drops the protocol versions ("1.1 ") of a Via header,
// keeping the received-by and comment parts where products appear.
func viaProducts(v string) string {
	var parts []string
	for _, hopPart := range strings.Split(v, ",") {
		f := strings.Fields(hopPart)
		if len(f) > 1 {
			parts = append(parts, strings.Join(f[1:], " "))
		}
	}
	return strings.Join(parts, " ")
}

// bodyBanner finds server products with versions in error and default
// pages: nginx's and Apache's error pages, Tomcat's error report, WSO2
// product names with a version.
var bodyBanner = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(?:nginx|openresty|tengine|apache tomcat|apache-coyote|apache|jetty|lighttpd|microsoft-iis|microsoft-httpapi|caddy|envoy|jboss|wildfly|undertow|glassfish|payara|weblogic server|websphere|php|express|tomee)[/ ]v?[0-9]+(?:\.[0-9]+)+[a-z0-9._-]*|\bWSO2 Carbon Server\b|\bWSO2-PassThrough-HTTP\b|\bWSO2 (?:Identity Server|API Manager|Micro Integrator|Enterprise Integrator|Carbon|Enterprise Service Bus|Application Server)[ -]v?[0-9]+(?:\.[0-9]+)+`)
})

// javaFrame is one line of a Java stack trace.
var javaFrame = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^[ \t]*at [A-Za-z_$][\w$]*(?:\.[\w$<>]+)+\((?:[\w$]+\.(?:java|kt|scala|groovy):[0-9]+|Native Method|Unknown Source)\)`)
})

// javaException is a qualified exception class at the start of a line or
// of an HTML element, as a stack trace or a servlet error report begins.
var javaException = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)(?:^|>)[ \t]*(?:Caused by:[ \t]*)?(?:java|javax|jakarta|org|com|io|net)\.[\w$]+(?:\.[\w$]+)*(?:Exception|Error)\b`)
})

// BodyDisclosures returns what a body gives away. Version banners are
// looked for when banners is true (error and default pages); Java stack
// traces always.
func BodyDisclosures(body []byte, banners bool) []string {
	if len(body) == 0 {
		return nil
	}
	s := string(body)
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		v = clip(strings.Join(strings.Fields(v), " "))
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if banners && mayContainFold(s, bannerWords) {
		for _, m := range bodyBanner().FindAllString(s, 8) {
			add(m)
		}
	}
	if m := javaFrameIn(s); m != "" {
		add("Java stack trace: " + strings.TrimSpace(m))
	} else if m := javaExceptionIn(s); m != "" {
		add("Java exception: " + strings.TrimLeft(m, "> \t"))
	}
	return out
}

// The regular expressions above scan a text from every position: none
// begins with a literal the regexp package could look for first. Each is
// run only on texts holding words every match holds (a necessary
// condition, so what they find is the same): most answers hold none.

// mayHaveVersionToken: every match of versionToken holds "/" or "(".
func mayHaveVersionToken(s string) bool { return strings.ContainsAny(s, "/(") }

// backendWords are backendProduct's words: a match is one of them.
var backendWords = []string{"wso2", "carbon", "synapse", "passthrough", "tomcat", "coyote", "jetty", "weblogic",
	"websphere", "jboss", "wildfly", "glassfish", "payara", "undertow", "tomee", "ballerina"}

// bannerWords: every match of bodyBanner holds one of them (the products'
// names: "apache" in "apache tomcat" and "apache-coyote", "microsoft-" in
// both of Microsoft's, "wso2" in every WSO2 banner).
var bannerWords = []string{"nginx", "openresty", "tengine", "apache", "jetty", "lighttpd", "microsoft-", "caddy",
	"envoy", "jboss", "wildfly", "undertow", "glassfish", "payara", "weblogic server", "websphere", "php",
	"express", "tomee", "wso2"}

// javaFrameIn is javaFrame's first match in s: a frame ends with a file
// and line, "(Native Method)" or "(Unknown Source)".
func javaFrameIn(s string) string {
	if !strings.Contains(s, "at ") || !containsAny(s, ".java:", ".kt:", ".scala:", ".groovy:", "(Native Method)", "(Unknown Source)") {
		return ""
	}
	return javaFrame().FindString(s)
}

// javaExceptionIn is javaException's first match in s: a class name of
// one of its packages ending in Exception or Error.
func javaExceptionIn(s string) string {
	if !containsAny(s, "Exception", "Error") || !containsAny(s, "java.", "javax.", "jakarta.", "org.", "com.", "io.", "net.") {
		return ""
	}
	return javaException().FindString(s)
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// mayContainFold reports whether s may hold one of words (lower-case
// ASCII) in the sense of a (?i) regular expression: ignoring case, where
// Unicode also folds KELVIN SIGN to k and LONG S to s; a text holding
// either may, whatever its letters.
func mayContainFold(s string, words []string) bool {
	if strings.Contains(s, "\u212a") || strings.Contains(s, "\u017f") {
		return true
	}
	lower := asciiLower(s)
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// asciiLower is s with its ASCII letters in lower case (s itself when it
// has none in upper case); other bytes are kept as they are.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxDisclosure {
		return s
	}
	cut := maxDisclosure
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
