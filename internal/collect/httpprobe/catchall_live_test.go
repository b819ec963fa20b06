package httpprobe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestCatchAllNginx: an nginx that answers every path with the same page.
// A welcome page cannot show that /carbon and /services are blocked:
// HTTP-004 is error, not pass. When the page every path gets is the
// product's own (the Carbon console's login page, an admin service's
// WSDL), the admin contexts are exposed: HTTP-004 fails.
func TestCatchAllNginx(t *testing.T) {
	page := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, conf string
		files      map[string][]byte
		status     finding.Status
		message    []string
	}{
		{"welcome page", `        location / { default_type text/html; return 200 "<html><body><h1>Welcome to the portal</h1></body></html>\n"; }`,
			nil, finding.Error, []string{"cannot tell: the server answers every path alike", "so /carbon, ", "/services, ", "may or may not be blocked"}},
		{"Carbon login page", `        root .;
        location / { default_type text/html; try_files /carbon-login.html =404; }`,
			map[string][]byte{"carbon-login.html": page("carbon-login.html")}, finding.Fail,
			[]string{"/carbon -> 200 (the Carbon management console login page, served for every path)"}},
		{"admin service WSDL", `        root .;
        location / { default_type text/xml; try_files /AuthenticationAdmin.wsdl =404; }`,
			map[string][]byte{"AuthenticationAdmin.wsdl": page("AuthenticationAdmin.wsdl")}, finding.Fail,
			[]string{"/services -> 200 (a WSDL, served for every path)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := testenv.Nginx(t, "", tc.conf, tc.files)
			tg, err := target.ParseEndpoint(addr)
			if err != nil {
				t.Fatal(err)
			}
			tg.Decl.Role = "dmz"
			f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), tg, testEnv(false))
			if f.HTTP.NotFoundStatus != 200 {
				t.Fatalf("a path that cannot exist got %d, want the catch-all's 200", f.HTTP.NotFoundStatus)
			}
			fd := judge(t, tg, f, false)["HTTP-004"]
			if fd.Status != tc.status {
				t.Fatalf("HTTP-004 %s (%s), want %s", fd.Status, fd.Message, tc.status)
			}
			for _, m := range tc.message {
				if !strings.Contains(fd.Message, m) {
					t.Errorf("HTTP-004 message %q lacks %q", fd.Message, m)
				}
			}
		})
	}
}
