package httpprobe_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
)

// Ground truth: /work/shared/eval/baseline/EXPECTED.md (weak and strong
// nginx targets).

func pathByName(hf *facts.HTTP, p string) (facts.PathProbe, bool) {
	for _, x := range hf.Paths {
		if x.Path == p {
			return x, true
		}
	}
	return facts.PathProbe{}, false
}

func TestEvalWeak(t *testing.T) {
	tg := evalTarget(t, "127.0.0.1:8443")
	c := httpprobe.New(httpprobe.Options{Version: "test"})
	f := collectHTTP(t, c, tg, testEnv(false))
	hf := f.HTTP

	if !hf.HTTPS || hf.RootStatus != 200 {
		t.Errorf("https=%v root status %d, want true, 200", hf.HTTPS, hf.RootStatus)
	}
	if !slices.Equal(hf.ServerHeaders, []string{"nginx/1.22.1"}) {
		t.Errorf("server headers %v, want [nginx/1.22.1]", hf.ServerHeaders)
	}
	if len(hf.Disclosures) != 1 || hf.Disclosures[0].Where != "header:Server" || hf.Disclosures[0].Value != "nginx/1.22.1" {
		t.Errorf("disclosures %+v, want the one Server header nginx/1.22.1", hf.Disclosures)
	}
	if hf.HSTS.Present {
		t.Errorf("HSTS present on the weak target: %+v", hf.HSTS)
	}
	// nginx answers every other path with the same 200 "weak target":
	// that is its catch-all, and the not-found probe gets it too.
	if hf.NotFoundStatus != 200 {
		t.Errorf("not-found status %d, want 200 (catch-all)", hf.NotFoundStatus)
	}
	for _, p := range []string{"/carbon", "/services", "/carbon/admin/login.jsp", "/services/AuthenticationAdmin?wsdl"} {
		pp, ok := pathByName(hf, p)
		if !ok || !pp.Reachable || pp.Status != 200 || pp.Category != "admin" || pp.CatchAll {
			t.Errorf("%s: %+v, want reachable admin 200", p, pp)
		}
	}
	for _, p := range []string{"/management/login", "/publisher", "/healthz", "/oauth2/token"} {
		pp, _ := pathByName(hf, p)
		if pp.Reachable || !pp.CatchAll {
			t.Errorf("%s: %+v, want the catch-all, not reachable", p, pp)
		}
	}
	var pages []string
	for _, pg := range hf.Pages {
		pages = append(pages, pg.Path)
		if pg.NoStore || pg.CacheControl != "" {
			t.Errorf("page %s: Cache-Control %q no_store=%v, want none", pg.Path, pg.CacheControl, pg.NoStore)
		}
	}
	if !slices.Equal(pages, []string{"/carbon", "/carbon/admin/login.jsp"}) {
		t.Errorf("pages %v, want /carbon and its login page", pages)
	}
	if len(hf.Health) != 0 || len(hf.Cookies) != 0 {
		t.Errorf("health %+v cookies %+v, want none", hf.Health, hf.Cookies)
	}

	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{
		"HTTP-001": finding.Fail, "HTTP-002": finding.Fail, "HTTP-003": finding.Fail, "HTTP-004": finding.Fail,
		"HTTP-005": finding.Manual, "HTTP-006": finding.NotApplicable, "IAM-005": finding.NotApplicable,
		"MON-001": finding.Manual, "SEC-002": finding.NotApplicable,
	})

	// With an allowlist and from the DMZ, the admin contexts break it.
	tg.Decl.Role = "dmz"
	tg.Decl.AllowedPaths = []string{"/oauth2", "/authenticationendpoint"}
	got := judge(t, tg, f, false)
	wantStatuses(t, got, map[string]finding.Status{"HTTP-004": finding.Fail, "HTTP-005": finding.Fail})
	// From the internal zone the admin contexts may answer.
	tg.Decl.Role = "internal"
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-004": finding.NotApplicable, "HTTP-005": finding.Manual})
}

func TestEvalStrong(t *testing.T) {
	tg := evalTarget(t, "127.0.0.1:9443")
	c := httpprobe.New(httpprobe.Options{Version: "test"})
	f := collectHTTP(t, c, tg, testEnv(false))
	hf := f.HTTP

	if !slices.Equal(hf.ServerHeaders, []string{"nginx"}) {
		t.Errorf("server headers %v, want [nginx]", hf.ServerHeaders)
	}
	if len(hf.Disclosures) != 0 {
		t.Errorf("disclosures %+v, want none (Server: nginx has no version)", hf.Disclosures)
	}
	h := hf.HSTS
	if !h.Present || h.MaxAge != 63072000 || !h.IncludeSubDomains || h.Problem != "" || len(h.MissingOn) != 0 {
		t.Errorf("HSTS %+v, want max-age=63072000; includeSubDomains", h)
	}
	for _, p := range []string{"/carbon", "/services", "/carbon/admin/login.jsp", "/services/UserAdmin?wsdl"} {
		pp, ok := pathByName(hf, p)
		if !ok || pp.Reachable || pp.Status != 403 {
			t.Errorf("%s: %+v, want 403, not reachable", p, pp)
		}
	}
	for _, pp := range hf.Paths {
		if pp.Reachable || pp.AuthRequired {
			t.Errorf("%s answers on the strong target: %+v", pp.Path, pp)
		}
	}

	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{
		"HTTP-001": finding.Pass, "HTTP-002": finding.Pass, "HTTP-003": finding.NotApplicable, "HTTP-004": finding.Pass,
		"HTTP-005": finding.Manual, "HTTP-006": finding.NotApplicable, "IAM-005": finding.NotApplicable,
		"MON-001": finding.Manual, "SEC-002": finding.NotApplicable,
	})
	tg.Decl.Role = "dmz"
	tg.Decl.AllowedPaths = []string{"/oauth2"}
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-004": finding.Pass, "HTTP-005": finding.Pass})

	// A declared health path is probed and timed: / answers 200.
	tg.Decl.HealthPaths = []string{"/"}
	f = collectHTTP(t, c, tg, testEnv(false))
	if len(f.HTTP.Health) != 1 || !f.HTTP.Health[0].Healthy || !f.HTTP.Health[0].Declared {
		t.Errorf("health %+v, want / declared and healthy", f.HTTP.Health)
	}
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-006": finding.Pass, "MON-001": finding.Manual})
}

// With --intrusive, neither nginx target shows a login endpoint, so no
// login is attempted and the rule says so.
func TestEvalIntrusiveNoLoginEndpoint(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8443", "127.0.0.1:9443"} {
		t.Run(addr, func(t *testing.T) {
			tg := evalTarget(t, addr)
			f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(true))
			dl := f.HTTP.DefaultLogin
			if dl.Attempted || len(dl.Attempts) != 0 || dl.Reason == "" {
				t.Errorf("default login %+v, want not attempted with a reason", dl)
			}
			got := judge(t, tg, f, true)
			wantStatuses(t, got, map[string]finding.Status{"SEC-002": finding.NotApplicable})
		})
	}
}

// The dhe target (openssl s_server -www, TLS 1.2 with DHE-RSA suites only)
// serves HTTP, but Go's TLS client has no DHE suite: the probe falls back
// to tlswire's client and judges it like any other endpoint. Ground truth:
// HTTP/1.0 200 ok, no Server header, no HSTS.
func TestEvalDHE(t *testing.T) {
	tg := evalTarget(t, "127.0.0.1:8444")
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{Version: "test"}), tg, testEnv(false))
	hf := f.HTTP
	if !hf.HTTPS || hf.TLSClient != "tlswire" || hf.RootStatus != 200 {
		t.Errorf("https=%v tls_client=%q root status %d, want true, tlswire, 200", hf.HTTPS, hf.TLSClient, hf.RootStatus)
	}
	if len(hf.ServerHeaders) != 0 || len(hf.Disclosures) != 0 || hf.HSTS.Present {
		t.Errorf("server headers %v disclosures %+v HSTS %+v, want none", hf.ServerHeaders, hf.Disclosures, hf.HSTS)
	}
	// s_server -www answers every path with its status page: the catch-all.
	for _, pp := range hf.Paths {
		if pp.Error != "" || pp.Reachable || !pp.CatchAll || pp.Status != 200 {
			t.Errorf("%s: %+v, want the catch-all 200", pp.Path, pp)
		}
	}
	// So whether /carbon and /services are blocked cannot be told: HTTP-004
	// is an error saying so (it used to pass).
	got := judge(t, tg, f, false)
	wantStatuses(t, got, map[string]finding.Status{
		"HTTP-001": finding.Pass, "HTTP-002": finding.Fail, "HTTP-003": finding.NotApplicable, "HTTP-004": finding.Error,
		"HTTP-005": finding.Manual, "HTTP-006": finding.NotApplicable, "IAM-005": finding.NotApplicable,
		"MON-001": finding.Manual, "SEC-002": finding.NotApplicable,
	})
	if m := got["HTTP-004"].Message; !strings.Contains(m, "cannot tell: the server answers every path alike") {
		t.Errorf("HTTP-004 message %q", m)
	}
	for id, fd := range got {
		if fd.Status == finding.Error && id != "HTTP-004" {
			t.Errorf("%s: error (%s)", id, fd.Message)
		}
	}
}
