package httpprobe

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seed corpora live in testdata/fuzz/FuzzXxx/ (real values from the eval
// targets, WSO2 products and RFC examples); run a target with
// go test -run '^$' -fuzz FuzzParseHSTS -fuzztime 30s ./internal/collect/httpprobe/

func FuzzParseHSTS(f *testing.F) {
	f.Add("max-age=63072000; includeSubDomains")
	f.Fuzz(func(t *testing.T, raw string) {
		h := ParseHSTS(raw)
		if !h.Present || h.MaxAge < 0 || h.MissingOn == nil {
			t.Fatalf("ParseHSTS(%q) = %+v", raw, h)
		}
		if len(h.Raw) > maxDisclosure+len("…") {
			t.Fatalf("raw not clipped: %d bytes", len(h.Raw))
		}
		if h.Problem == "" && !strings.Contains(strings.ToLower(raw), "max-age") {
			t.Fatalf("valid without max-age: %q", raw)
		}
		if h.MaxAge > 0 && !strings.ContainsAny(raw, "123456789") {
			t.Fatalf("max-age %d from %q", h.MaxAge, raw)
		}
	})
}

func FuzzParseSetCookie(f *testing.F) {
	f.Add("JSESSIONID=0123456789ABCDEF; Path=/; Secure; HttpOnly; SameSite=Strict")
	f.Fuzz(func(t *testing.T, line string) {
		c, ok := ParseSetCookie(line)
		_ = deletes(line)
		if !ok {
			return
		}
		if c.Name == "" || len(c.Name) > 64 || !utf8.ValidString(c.Name) || !utf8.ValidString(c.SameSite) || len(c.SameSite) > 20 {
			t.Fatalf("ParseSetCookie(%q) = %+v", line, c)
		}
		if c.Length < 0 || c.Length > len(line) {
			t.Fatalf("length %d for a %d-byte line", c.Length, len(line))
		}
		if c.Session != IsSessionCookie(strings.TrimSpace(strings.SplitN(line, "=", 2)[0])) {
			t.Fatalf("session flag disagrees with the name: %+v", c)
		}
	})
}

func FuzzCacheDirectives(f *testing.F) {
	f.Add("no-store, no-cache, must-revalidate, private")
	f.Fuzz(func(t *testing.T, v string) {
		ds := CacheDirectives([]string{v})
		has := false
		for _, d := range ds {
			if d == "" || d != strings.ToLower(d) {
				t.Fatalf("directive %q from %q", d, v)
			}
			has = has || d == "no-store"
		}
		if NoStore([]string{v}) != has {
			t.Fatalf("NoStore disagrees with the directives of %q", v)
		}
	})
}

func FuzzBanners(f *testing.F) {
	f.Add("nginx/1.22.1", []byte("<hr><center>nginx/1.22.1</center>"), true)
	f.Fuzz(func(t *testing.T, server string, body []byte, banners bool) {
		// What the matchers find is what their regular expressions find
		// run on every text (banner_oracle_test.go).
		agree(t, server)
		agree(t, string(body))
		_ = DisclosingServer(server)
		h := http.Header{}
		h["Server"] = []string{server}
		h["X-Powered-By"] = []string{server}
		h["Via"] = []string{server}
		for _, d := range headerDisclosures(h) {
			if len(d[1]) > maxDisclosure+len("…") {
				t.Fatalf("header disclosure not clipped: %d bytes", len(d[1]))
			}
		}
		got := BodyDisclosures(body, banners)
		if len(got) > 10 {
			t.Fatalf("%d disclosures from one body", len(got))
		}
		for _, d := range got {
			if d == "" || len(d) > maxDisclosure+len("…") {
				t.Fatalf("body disclosure %q", d)
			}
		}
	})
}

func FuzzSignature(f *testing.F) {
	f.Add("/carbon", "<h1>Not Found</h1> /carbon 2026-11-22 12:00:01", 404)
	f.Fuzz(func(t *testing.T, path, body string, status int) {
		if collapseDigits(collapseDigits(body)) != collapseDigits(body) {
			t.Fatalf("collapseDigits is not idempotent on %q", body)
		}
		a := &answer{path: path, hops: []hop{{URL: "https://h" + path, Status: status, Header: http.Header{}}}, body: []byte(body)}
		s := makeSignature(a)
		if !s.valid || !sameAnswer(s, s) || len(s.tokens) > maxTokens {
			t.Fatalf("signature of %q: valid=%v tokens=%d", body, s.valid, len(s.tokens))
		}
		_ = JSONStatus([]byte(body))
	})
}

func FuzzProductPage(f *testing.F) {
	for _, name := range []string{"carbon-login.html", "AuthenticationAdmin.wsdl"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("<html><body>Welcome</body></html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := ProductPage(body)
		if got != "" && got != pageCarbonLogin && got != pageWSDL {
			t.Fatalf("unknown page kind %q", got)
		}
		// Only the first maxProductScan bytes count.
		if len(body) > maxProductScan && ProductPage(body[:maxProductScan]) != got {
			t.Fatal("bytes past the scan limit changed the answer")
		}
		if got == pageCarbonLogin && !strings.Contains(string(body), "login_action.jsp") {
			t.Fatal("a login page without its form action")
		}
	})
}

// TestProductPage: the pages the products serve are recognised, pages
// that merely mention them are not.
func TestProductPage(t *testing.T) {
	for name, want := range map[string]string{"carbon-login.html": pageCarbonLogin, "AuthenticationAdmin.wsdl": pageWSDL} {
		b, err := os.ReadFile(filepath.Join("testdata", "pages", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := ProductPage(b); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for _, body := range []string{
		"<html><body>Welcome to the portal</body></html>",
		"<html><body>Our docs: see login_action.jsp in the Apache Struts guide</body></html>",
		`{"definitions": {"wsdl": "none"}}`,
	} {
		if got := ProductPage([]byte(body)); got != "" {
			t.Errorf("%q recognised as %q", body, got)
		}
	}
}
