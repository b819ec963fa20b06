package httpprobe

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
)

func TestParseHSTS(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		maxAge  int64
		sub     bool
		preload bool
		problem string
	}{
		{raw: "max-age=63072000; includeSubDomains", maxAge: 63072000, sub: true},
		{raw: "max-age=31536000", maxAge: 31536000},
		{raw: `MAX-AGE="31536000" ; INCLUDESUBDOMAINS ; preload`, maxAge: 31536000, sub: true, preload: true},
		{raw: "max-age=0", maxAge: 0},
		{raw: "includeSubDomains", sub: true, problem: "no max-age directive"},
		{raw: "max-age=1; max-age=2", maxAge: 1, problem: "directive max-age is given more than once"},
		{raw: "max-age=abc", problem: "max-age is not a number of seconds: abc"},
		{raw: "max-age=-5", problem: "max-age is not a number of seconds: -5"},
		{raw: "max-age", problem: "max-age has no value"},
		{raw: `max-age="12`, problem: `max-age is not a number of seconds: "12`},
		{raw: "max-age=99999999999999999999999", maxAge: 1<<63 - 1},
		{raw: `max-age=300; foo="a;b"; includeSubDomains`, maxAge: 300, sub: true},
		{raw: "", problem: "no max-age directive"},
	} {
		h := ParseHSTS(tc.raw)
		if !h.Present || h.MaxAge != tc.maxAge || h.IncludeSubDomains != tc.sub || h.Preload != tc.preload || h.Problem != tc.problem {
			t.Errorf("ParseHSTS(%q) = %+v", tc.raw, h)
		}
	}
}

func TestHSTSOf(t *testing.T) {
	h := http.Header{}
	h.Add("Strict-Transport-Security", "max-age=300")
	h.Add("Strict-Transport-Security", "max-age=31536000")
	if got := hstsOf(h, true); got.MaxAge != 300 {
		t.Errorf("first header must win (RFC 6797 8.1): %+v", got)
	}
	if got := hstsOf(h, false); got.Present {
		t.Errorf("HSTS over plain HTTP must be ignored: %+v", got)
	}
}

func TestParseSetCookie(t *testing.T) {
	for _, tc := range []struct {
		line string
		want facts.Cookie
		ok   bool
	}{
		{"JSESSIONID=0123456789ABCDEF0123456789ABCDEF; Path=/; Secure; HttpOnly; SameSite=Strict",
			facts.Cookie{Name: "JSESSIONID", Length: 32, Secure: true, HTTPOnly: true, SameSite: "Strict", Session: true}, true},
		{`commonAuthId="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"; Path=/; secure; httponly; samesite=none`,
			facts.Cookie{Name: "commonAuthId", Length: 36, Secure: true, HTTPOnly: true, SameSite: "None", Session: true}, true},
		{"lang=en; Path=/", facts.Cookie{Name: "lang", Length: 2}, true},
		{"opbs=x; SameSite=Weird", facts.Cookie{Name: "opbs", Length: 1, SameSite: "Weird"}, true},
		{"=novalue", facts.Cookie{}, false},
		{"garbage", facts.Cookie{}, false},
	} {
		got, ok := ParseSetCookie(tc.line)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSetCookie(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	for line, want := range map[string]bool{
		"JSESSIONID=; Path=/":                 true,
		"rememberMe=x; Max-Age=0":             true,
		"rememberMe=x; Max-Age=-1":            true,
		`JSESSIONID=""`:                       true,
		"JSESSIONID=abc; Max-Age=3600":        false,
		"JSESSIONID=abc; Expires=Wed, 21 Oct": false,
	} {
		if deletes(line) != want {
			t.Errorf("deletes(%q) = %v", line, !want)
		}
	}
}

func TestSessionCookieNames(t *testing.T) {
	for name, want := range map[string]bool{
		"JSESSIONID": true, "JSESSIONIDSSO": true, "commonAuthId": true, "samlssoTokenId": true, "PHPSESSID": true,
		"ASP.NET_SessionId": true, "sid": true, "session": true, "laravel_session": true, "connect.sid": true,
		"opbs": false, "lang": false, "requestedURI": false, "menuPanel": false, "sessionNonceCookie-1f2e": false,
	} {
		if IsSessionCookie(name) != want {
			t.Errorf("IsSessionCookie(%q) = %v", name, !want)
		}
	}
}

func TestNoStore(t *testing.T) {
	for _, tc := range []struct {
		vals []string
		want bool
	}{
		{[]string{"no-store"}, true},
		{[]string{"no-cache, no-store, must-revalidate, private"}, true},
		{[]string{"private", "No-Store"}, true},
		{[]string{`private="no-store, x", max-age=0`}, false},
		{[]string{"no-cache"}, false},
		{nil, false},
	} {
		if got := NoStore(tc.vals); got != tc.want {
			t.Errorf("NoStore(%q) = %v", tc.vals, got)
		}
	}
}

func TestDisclosingServer(t *testing.T) {
	for v, want := range map[string]bool{
		"nginx": false, "Apache": false, "WebServer": false, "cloudflare": false, "envoy": false, "": false,
		"nginx/1.22.1": true, "Apache/2.4.41 (Ubuntu)": true, "WSO2 Carbon Server": true,
		"WSO2-PassThrough-HTTP": true, "Apache-Coyote/1.1": true, "Microsoft-IIS/10.0": true,
		"Jetty(9.4.44.v20210927)": true, "openresty/1.21.4.1": true, "ballerina": true,
	} {
		if DisclosingServer(v) != want {
			t.Errorf("DisclosingServer(%q) = %v", v, !want)
		}
	}
	h := http.Header{}
	h.Set("Server", "nginx")
	h.Set("X-Powered-By", "Servlet/3.1")
	h.Set("Via", "1.1 varnish (Varnish/6.0)")
	got := headerDisclosures(h)
	want := [][2]string{{"header:X-Powered-By", "Servlet/3.1"}, {"header:Via", "1.1 varnish (Varnish/6.0)"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headerDisclosures = %q, want %q", got, want)
	}
	h = http.Header{}
	h.Set("Via", "1.1 proxy.internal")
	if got := headerDisclosures(h); len(got) != 0 {
		t.Errorf("a Via without product version: %q", got)
	}
}

func TestBodyDisclosures(t *testing.T) {
	nginx403 := "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	nginx404v := strings.Replace(nginx403, "<center>nginx</center>", "<center>nginx/1.22.1</center>", 1)
	tomcat500 := `<h1>HTTP Status 500 – Internal Server Error</h1><p><b>Exception</b></p><pre>javax.servlet.ServletException: boom
</pre><h3>Apache Tomcat/9.0.41</h3>`
	trace := "java.lang.NullPointerException\n\tat org.wso2.carbon.ui.CarbonSecuredHttpContext.handleSecurity(CarbonSecuredHttpContext.java:123)\n"
	for _, tc := range []struct {
		body    string
		banners bool
		want    []string
	}{
		{nginx403, true, nil},
		{nginx404v, true, []string{"nginx/1.22.1"}},
		{nginx404v, false, nil},
		{tomcat500, true, []string{"Apache Tomcat/9.0.41", "Java exception: javax.servlet.ServletException"}},
		{trace, false, []string{"Java stack trace: at org.wso2.carbon.ui.CarbonSecuredHttpContext.handleSecurity(CarbonSecuredHttpContext.java:123)"}},
		{"<title>WSO2 Identity Server 7.1.0</title>", true, []string{"WSO2 Identity Server 7.1.0"}},
		{"Powered by WSO2 Identity Server", true, nil},
		{"HTTP/1.1 is the protocol; see RFC 9110 section 1.1", true, nil},
	} {
		got := BodyDisclosures([]byte(tc.body), tc.banners)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("BodyDisclosures(%.40q, %v) = %q, want %q", tc.body, tc.banners, got, tc.want)
		}
	}
}

func TestCatchAllSignature(t *testing.T) {
	mk := func(path string, status int, body string) signature {
		h := http.Header{}
		return makeSignature(&answer{path: path, hops: []hop{{URL: "https://h" + path, Status: status, Header: h}}, body: []byte(body)})
	}
	nf := mk("/nope-123", 404, "<p>The requested URL /nope-123 was not found on this server.</p> id 8812")
	if !sameAnswer(nf, mk("/carbon", 404, "<p>The requested URL /carbon was not found on this server.</p> id 17")) {
		t.Errorf("echoed path and request id should not make a different answer")
	}
	if sameAnswer(nf, mk("/carbon", 200, "<p>The requested URL /carbon was not found on this server.</p>")) {
		t.Errorf("another status is another answer")
	}
	if sameAnswer(mk("/x", 200, "weak target\n"), mk("/carbon", 200, "carbon endpoint (weak)\n")) {
		t.Errorf("different pages compared equal")
	}
	// A catch-all page that carries a fresh token on every answer.
	page := `<html><head><title>Welcome to the portal</title></head><body><h1>Welcome</h1>
<p>Sign in to continue to your account. Use your corporate user name and password, or contact the
service desk when you cannot reach the page you were looking for. This portal is maintained by the
platform team; see the status page for planned maintenance windows and known issues.</p>
<input type="hidden" name="csrf" value="%s"/></body></html>`
	if !sameAnswer(mk("/a", 200, strings.Replace(page, "%s", "qWeRtYuIoPaSdF", 1)), mk("/b", 200, strings.Replace(page, "%s", "zXcVbNmLkJhGfD", 1))) {
		t.Errorf("pages alike but for a token should be the catch-all")
	}
	if sameAnswer(signature{}, signature{}) {
		t.Errorf("failed answers have no signature to compare")
	}
}

func TestClassify(t *testing.T) {
	nf := makeSignature(&answer{path: notFoundPath, hops: []hop{{Status: 404, Header: http.Header{}}}, body: []byte("nf")})
	for status, want := range map[int]verdict{
		200: {reachable: true}, 302: {reachable: true}, 400: {reachable: true}, 405: {reachable: true},
		500: {reachable: true}, 503: {reachable: true}, 401: {auth: true}, 407: {auth: true},
		403: {}, 404: {}, 410: {}, 502: {}, 504: {},
	} {
		a := &answer{path: "/carbon", hops: []hop{{Status: status, Header: http.Header{}}}, body: []byte("x")}
		a.sig = makeSignature(a)
		if got := classify(a, nf); got != want {
			t.Errorf("status %d: %+v, want %+v", status, got, want)
		}
	}
	a := &answer{path: "/x", hops: []hop{{Status: 200, Header: http.Header{}}}, err: errUnresponsive}
	if got := classify(a, nf); got != (verdict{}) {
		t.Errorf("a failed answer counts for nothing: %+v", got)
	}
}

func TestJSONStatus(t *testing.T) {
	for body, want := range map[string]string{
		`{"status": "ready"}`: "ready", `{"Status":"UP","x":1}`: "UP", `{"health":[]}`: "", `[1]`: "",
		`{"status": 1}`: "", `not json`: "", ``: "",
	} {
		if got := JSONStatus([]byte(body)); got != want {
			t.Errorf("JSONStatus(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestKeptHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("X-AspNet-Version", "4.0.30319")
	h.Set("WWW-Authenticate", "Basic")
	h.Set("X-Request-Id", "drop me")
	got := keptHeaders(h)
	if got.Get("X-AspNet-Version") != "4.0.30319" || got.Get("Www-Authenticate") != "Basic" || got.Get("X-Request-Id") != "" {
		t.Errorf("keptHeaders = %v", got)
	}
	if d := headerDisclosures(got); len(d) != 1 || d[0][0] != "header:X-AspNet-Version" {
		t.Errorf("disclosures after trimming: %q", d)
	}
}
