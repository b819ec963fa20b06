package httpprobe_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

func simTarget(t testing.TB, rawURL string) target.Target {
	t.Helper()
	tg, err := target.ParseEndpoint(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func hasDisclosure(hf *facts.HTTP, where, substr string) bool {
	for _, d := range hf.Disclosures {
		if d.Where == where && strings.Contains(d.Value, substr) {
			return true
		}
	}
	return false
}

func TestWSO2Weak(t *testing.T) {
	sim := &wso2Sim{password: "admin"}
	srv := startSim(t, sim, true)
	tg := simTarget(t, srv.URL+"/")
	tg.Decl.Role = "dmz"
	tg.Decl.AllowedPaths = []string{"/oauth2", "/authenticationendpoint"}
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{Version: "1.2.3"}), tg, testEnv(false))
	hf := f.HTTP

	for _, want := range [][2]string{
		{"header:Server", "WSO2 Carbon Server"},
		{"body", "Apache Tomcat/9.0.41"},
		{"body", "Java stack trace: at org.apache.axis2.util.Utils.getInboundFaultFromMessageContext(Utils.java:531)"},
	} {
		if !hasDisclosure(hf, want[0], want[1]) {
			t.Errorf("no disclosure %s %q in %+v", want[0], want[1], hf.Disclosures)
		}
	}
	if hf.HSTS.Present || hf.NotFoundStatus != 404 {
		t.Errorf("hsts %+v, not-found status %d", hf.HSTS, hf.NotFoundStatus)
	}
	// /carbon redirects twice to the console login: the console is exposed.
	pp, _ := pathByName(hf, "/carbon")
	if !pp.Reachable || pp.Redirects != 2 || !strings.HasSuffix(pp.FinalURL, "/carbon/admin/login.jsp") {
		t.Errorf("/carbon: %+v, want reachable through 2 redirects to the login page", pp)
	}
	pp, _ = pathByName(hf, "/management/login")
	if pp.Reachable || !pp.AuthRequired || pp.Status != 401 {
		t.Errorf("/management/login: %+v, want 401 auth_required", pp)
	}
	pp, _ = pathByName(hf, "/oauth2/token")
	if !pp.Reachable || pp.Status != 405 {
		t.Errorf("/oauth2/token: %+v, want reachable 405", pp)
	}
	pp, _ = pathByName(hf, "/publisher")
	if pp.Reachable || pp.Status != 404 || pp.CatchAll {
		t.Errorf("/publisher: %+v, want 404", pp)
	}
	var sessions int
	for _, c := range hf.Cookies {
		if c.Session {
			sessions++
			if c.Name != "JSESSIONID" || c.Length != 16 || !c.Secure || c.HTTPOnly {
				t.Errorf("cookie %+v, want JSESSIONID of 16 characters, Secure, no HttpOnly", c)
			}
		}
	}
	if sessions == 0 {
		t.Errorf("no session cookie in %+v", hf.Cookies)
	}
	health := map[string]facts.HealthProbe{}
	for _, h := range hf.Health {
		health[h.Path] = h
	}
	if h := health["/healthz"]; h.Healthy || h.Status != 503 || h.State != "not ready" {
		t.Errorf("/healthz %+v, want 503 not ready", h)
	}
	if h := health["/liveness"]; !h.Healthy || h.State != "live" {
		t.Errorf("/liveness %+v, want healthy", h)
	}
	if !health["/api/health-check/v1.0/health"].Healthy {
		t.Errorf("carbon health check %+v", health)
	}
	if hf.DefaultLogin.Attempted || !strings.Contains(hf.DefaultLogin.Reason, "--intrusive") {
		t.Errorf("default login %+v, want not attempted (not intrusive)", hf.DefaultLogin)
	}

	got := judge(t, tg, f, false)
	wantStatuses(t, got, map[string]finding.Status{
		"HTTP-001": finding.Fail, "HTTP-002": finding.Fail, "HTTP-003": finding.Fail, "HTTP-004": finding.Fail,
		"HTTP-005": finding.Fail, "HTTP-006": finding.Fail, "IAM-005": finding.Fail, "MON-001": finding.Fail,
		"SEC-002": finding.NotApplicable,
	})
	for id, want := range map[string]string{
		"HTTP-004": "/management/login -> 401", "HTTP-003": "/carbon/admin/login.jsp", "IAM-005": "no HttpOnly",
		"HTTP-006": "/healthz: status 503", "SEC-002": "--intrusive",
	} {
		if !strings.Contains(got[id].Message, want) {
			t.Errorf("%s message %q lacks %q", id, got[id].Message, want)
		}
	}

	// Read-only: without --intrusive, nothing but GETs, none with
	// credentials, all naming rampart.
	for _, r := range sim.log() {
		if r.Method != "GET" || r.Auth != "" {
			t.Errorf("non-intrusive scan sent %s %s (auth %q)", r.Method, r.Path, r.Auth)
		}
		if r.UA != "rampart/1.2.3 (+https://github.com/rampart-sec/rampart)" {
			t.Errorf("user agent %q", r.UA)
		}
	}
}

func TestWSO2WeakIntrusive(t *testing.T) {
	for _, tc := range []struct {
		password string
		want     finding.Status
	}{{"admin", finding.Fail}, {"s3cret-Changed", finding.Pass}} {
		t.Run(tc.password, func(t *testing.T) {
			sim := &wso2Sim{password: tc.password}
			srv := startSim(t, sim, true)
			tg := simTarget(t, srv.URL+"/")
			f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(true))
			dl := f.HTTP.DefaultLogin
			if !dl.Attempted || len(dl.Attempts) != 2 {
				t.Fatalf("default login %+v, want 2 attempts", dl)
			}
			accepted := tc.password == "admin"
			for _, a := range dl.Attempts {
				if a.Accepted != accepted || a.Username != "admin" || a.Error != "" {
					t.Errorf("attempt %+v, want accepted=%v", a, accepted)
				}
			}
			got := judge(t, tg, f, true)
			wantStatuses(t, got, map[string]finding.Status{"SEC-002": tc.want})

			// One attempt per endpoint; an accepted login is logged out at once.
			var posts, basics, logouts int
			for _, r := range sim.log() {
				switch {
				case r.Method == "POST" && r.Path == "/carbon/admin/login_action.jsp":
					posts++
				case strings.HasPrefix(r.Auth, "Basic "):
					basics++
				case r.Path == "/carbon/admin/logout_action.jsp" && strings.Contains(r.Cookie, "JSESSIONID="),
					r.Path == "/management/logout" && strings.HasPrefix(r.Auth, "Bearer "):
					logouts++
				case r.Method != "GET":
					t.Errorf("unexpected %s %s", r.Method, r.Path)
				}
			}
			wantLogouts := 0
			if accepted {
				wantLogouts = 2
			}
			if posts != 1 || basics != 1 || logouts != wantLogouts {
				t.Errorf("%d login posts, %d basic-auth logins, %d logouts; want 1, 1, %d", posts, basics, logouts, wantLogouts)
			}
			// Neither the password nor the token ends up in the facts.
			js, _ := json.Marshal(f.HTTP)
			for _, secret := range []string{"eyJhbGciOiJSUzI1NiJ9", "YWRtaW46", "password=", "FEDCBA9876543210", "0123456789ABCDEF"} {
				if strings.Contains(string(js), secret) {
					t.Errorf("facts hold %q", secret)
				}
			}
		})
	}
}

func TestWSO2Hardened(t *testing.T) {
	sim := &wso2Sim{hardened: true, password: "admin"}
	srv := startSim(t, sim, true)
	tg := simTarget(t, srv.URL+"/")
	tg.Decl.Role = "dmz"
	tg.Decl.AllowedPaths = []string{"/oauth2", "/authenticationendpoint"}
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(true))
	hf := f.HTTP
	if len(hf.Disclosures) != 0 {
		t.Errorf("disclosures %+v, want none", hf.Disclosures)
	}
	if hf.HSTS.MaxAge != 31536000 || !hf.HSTS.IncludeSubDomains || len(hf.HSTS.MissingOn) != 0 {
		t.Errorf("hsts %+v", hf.HSTS)
	}
	if len(hf.Pages) != 1 || hf.Pages[0].Path != "/authenticationendpoint/login.do" || !hf.Pages[0].NoStore || hf.Pages[0].Pragma != "no-cache" {
		t.Errorf("pages %+v, want the login page with no-store", hf.Pages)
	}
	if len(hf.Cookies) != 1 || hf.Cookies[0].Length != 64 || hf.Cookies[0].SameSite != "Strict" || !hf.Cookies[0].HTTPOnly {
		t.Errorf("cookies %+v", hf.Cookies)
	}
	if len(hf.Health) != 0 {
		t.Errorf("health %+v, want none (blocked at the proxy)", hf.Health)
	}
	wantStatuses(t, judge(t, tg, f, true), map[string]finding.Status{
		"HTTP-001": finding.Pass, "HTTP-002": finding.Pass, "HTTP-003": finding.Pass, "HTTP-004": finding.Pass,
		"HTTP-005": finding.Pass, "HTTP-006": finding.NotApplicable, "IAM-005": finding.Pass, "MON-001": finding.Manual,
		"SEC-002": finding.NotApplicable,
	})
	for _, r := range sim.log() {
		if r.Method != "GET" {
			t.Errorf("hardened target got %s %s: no login endpoint answered, so none should be tried", r.Method, r.Path)
		}
	}

	// A declared health path that the proxy blocks is reported, unhealthy.
	tg.Decl.HealthPaths = []string{"/healthz"}
	f = collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(false))
	if len(f.HTTP.Health) != 1 || f.HTTP.Health[0].Healthy || f.HTTP.Health[0].Status != 403 || !f.HTTP.Health[0].Declared {
		t.Errorf("health %+v, want /healthz 403 declared", f.HTTP.Health)
	}
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-006": finding.Fail, "MON-001": finding.Fail})
}

// Over plain HTTP, HSTS does not apply and cookies need not be Secure.
func TestWSO2PlainHTTP(t *testing.T) {
	sim := &wso2Sim{hardened: true}
	srv := startSim(t, sim, false)
	tg := simTarget(t, srv.URL+"/")
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(false))
	if f.HTTP.HTTPS || f.HTTP.HSTS.Present {
		t.Errorf("https=%v hsts=%+v on plain HTTP", f.HTTP.HTTPS, f.HTTP.HSTS)
	}
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-002": finding.NotApplicable, "IAM-005": finding.Pass})
}

// A declared public host name is sent as SNI and Host, and redirects to
// it are followed to the address probed.
func TestDeclaredHostname(t *testing.T) {
	sim := &wso2Sim{password: "admin"}
	srv := startSim(t, sim, true)
	tg := simTarget(t, srv.URL+"/")
	tg.Decl.Hostname = "login.example.com"
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(false))
	if pp, _ := pathByName(f.HTTP, "/carbon"); !pp.Reachable {
		t.Errorf("/carbon %+v", pp)
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, r := range sim.log() {
		if r.SNI != "login.example.com" || r.Host != "login.example.com:"+port {
			t.Fatalf("request %s: SNI %q Host %q", r.Path, r.SNI, r.Host)
		}
	}
}

// A target of unknown scheme is tried over HTTPS, then HTTP; a service
// that speaks neither is not applicable (no facts, no error).
func TestUnknownScheme(t *testing.T) {
	c := httpprobe.New(httpprobe.Options{})
	for _, tlsOn := range []bool{true, false} {
		srv := startSim(t, &wso2Sim{hardened: true}, tlsOn)
		tg, err := target.ParseEndpoint(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.Collect(context.Background(), tg, testEnv(false))
		if err != nil || f == nil || f.HTTP == nil || f.HTTP.HTTPS != tlsOn || f.HTTP.RootStatus != 200 {
			t.Errorf("tls=%v: facts %+v err %v", tlsOn, f, err)
		}
	}
	// An SSH-like banner server.
	ln := listen(t)
	go serveConns(ln, func(conn net.Conn) { _, _ = conn.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")); readSome(conn) })
	tg, _ := target.ParseEndpoint(ln.Addr().String())
	f, err := c.Collect(context.Background(), tg, testEnv(false))
	if err != nil || f != nil {
		t.Errorf("ssh banner: facts %+v err %v, want neither", f, err)
	}
	// The same server named https:// is an error, not "not applicable".
	tg.Scheme = "https"
	if _, err := c.Collect(context.Background(), tg, testEnv(false)); err == nil {
		t.Errorf("https:// to an SSH server: no error")
	}
}

// A TLS server that refuses every handshake (as a DHE-only server does
// Go's client) is HTTPS that cannot be looked at: an error, even when the
// scheme was not given, never "not an HTTP service".
func TestTLSRefused(t *testing.T) {
	ln := listen(t)
	go serveConns(ln, func(conn net.Conn) {
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf)                                               // the ClientHello
		_, _ = conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}) // fatal handshake_failure
	})
	tg, _ := target.ParseEndpoint(ln.Addr().String())
	f, err := httpprobe.New(httpprobe.Options{}).Collect(context.Background(), tg, testEnv(false))
	if err == nil || f != nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Fatalf("facts %+v err %v, want the handshake failure", f, err)
	}
	t.Log(err)
}
