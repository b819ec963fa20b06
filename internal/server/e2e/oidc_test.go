package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rampart-sec/rampart/internal/server/oidctest"
)

// Single sign-on in headless Chromium against the real binary: the
// sign-in page's button goes to a real OpenID Connect provider the test
// runs (zitadel/oidc's OP over HTTPS), the person signs in at the
// provider's own form, and lands on the dashboard with the role their
// groups map to; the audit log shows the sign-in. The local admin's
// password sign-in stays available on the same page. Screenshots:
// issue12-oidc-*.png.
func TestOIDCSignInE2E(t *testing.T) {
	chrome := chromium(t)
	idp := oidctest.Start(t, oidctest.Options{},
		oidctest.User{Subject: "u-alice", Username: "alice", Password: "alice's idp password", Email: "alice@example.com", Groups: []string{"sec-admins"}},
		oidctest.User{Subject: "u-victor", Username: "victor", Password: "victor's idp password", Groups: []string{"sec-readers"}})
	dir := t.TempDir()
	secret := filepath.Join(dir, "oidc.secret")
	if err := os.WriteFile(secret, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "listen: 127.0.0.1:0\ndata_dir: data\nadmin: {username: admin}\noidc:\n  issuer: " + idp.Issuer + "\n  client_id: " + idp.ClientID +
		"\n  client_secret_file: oidc.secret\n  name: Example IdP\n  scopes: [profile, email, groups]\n  roles: {admin: [sec-admins], viewer: [sec-readers]}\n  ca_bundle: " + idp.CAFile + "\n"
	p := startServe(t, dir, cfg, "RAMPART_ADMIN_PASSWORD=the e2e admin password")
	idp.AllowRedirect(p.base + "/oidc/callback")

	leafPEM, err := os.ReadFile(filepath.Join(p.dataDir, "server.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(leafPEM)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	idpSPKI := sha256.Sum256(idp.Server.Certificate().RawSubjectPublicKeyInfo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])+","+base64.StdEncoding.EncodeToString(idpSPKI[:])),
	)
	defer acancel()
	art := artifactDir(t)
	first, fcancel := chromedp.NewContext(actx)
	defer fcancel()
	if err := chromedp.Do(first); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Each person gets a browser context of their own (own cookies).
	newBrowser := func() (context.Context, context.CancelFunc) {
		return chromedp.NewContext(first, chromedp.WithNewBrowserContext())
	}
	shot := func(bctx context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(art, "issue12-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	text := func(bctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	// alice: the button, the provider's form, the dashboard as an admin.
	bctx, bcancel := newBrowser()
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/login"), chromedp.WaitVisible("#sso")); err != nil {
		t.Fatalf("sign-in page: %v\n%s", err, p.out)
	}
	if s := text(bctx, "#sso"); s != "Sign in with Example IdP" {
		t.Errorf("button reads %q", s)
	}
	shot(bctx, "oidc-login")
	err = chromedp.Do(bctx, chromedp.Click("#sso"), chromedp.WaitVisible("#username"))
	if err != nil {
		t.Fatalf("to the provider: %v\n%s", err, p.out)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, idp.Issuer+"/login/username") {
		t.Fatalf("the button led to %q (%v), not the provider's sign-in form", loc, err)
	}
	err = chromedp.Do(bctx, chromedp.SendKeys("#username", "alice"), chromedp.SendKeys("#password", "alice's idp password"))
	if err != nil {
		t.Fatal(err)
	}
	shot(bctx, "oidc-provider")
	if err := chromedp.Do(bctx, chromedp.Submit("#password"), chromedp.WaitVisible("#targets")); err != nil {
		t.Fatalf("back from the provider: %v\n%s", err, p.out)
	}
	if u, r := text(bctx, "#account"), text(bctx, "#role"); u != "alice" || r != "admin" {
		t.Errorf("signed in as %q (%q); want alice (admin)", u, r)
	}
	shot(bctx, "oidc-signed-in")
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/audit"), chromedp.WaitVisible("#audit")); err != nil {
		t.Fatal(err)
	}
	if s := text(bctx, "#audit"); !strings.Contains(s, "OpenID Connect "+idp.Issuer+"; role admin (groups: sec-admins)") {
		t.Errorf("the audit log does not show alice's sign-in:\n%s", s)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/users"), chromedp.WaitVisible("#users")); err != nil {
		t.Fatal(err)
	}
	if s := text(bctx, "#users"); !strings.Contains(s, "signs in with OpenID Connect") {
		t.Errorf("the users page does not say alice signs in with OpenID Connect:\n%s", s)
	}
	shot(bctx, "oidc-users")

	// victor, in another browser: a viewer.
	vctx, vcancel := newBrowser()
	defer vcancel()
	err = chromedp.Do(vctx, chromedp.Navigate(p.base+"/login"), chromedp.WaitVisible("#sso"), chromedp.Click("#sso"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "victor"), chromedp.SendKeys("#password", "victor's idp password"), chromedp.Submit("#password"), chromedp.WaitVisible("#targets"))
	if err != nil {
		t.Fatalf("victor: %v", err)
	}
	if r := text(vctx, "#role"); r != "viewer" {
		t.Errorf("victor's role %q; want viewer", r)
	}
	// The local admin signs in with a password on the same page.
	actx2, acancel2 := newBrowser()
	defer acancel2()
	err = chromedp.Do(actx2, chromedp.Navigate(p.base+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", "the e2e admin password"), chromedp.Submit("#password"), chromedp.WaitVisible("#targets"))
	if err != nil {
		t.Fatalf("local admin: %v", err)
	}
	if u := text(actx2, "#account"); u != "admin" {
		t.Errorf("local sign-in as %q", u)
	}
}
