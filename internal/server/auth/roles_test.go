package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampart-sec/rampart/internal/server/secret"
)

func TestRolePermissions(t *testing.T) {
	perms := []Perm{PermPublic, PermSelf, PermRead, PermUpload, PermAdmin}
	want := map[Role][]bool{
		RoleAdmin:    {true, true, true, true, true},
		RoleUploader: {true, false, true, true, false},
		RoleViewer:   {true, true, true, false, false},
		"":           {true, false, false, false, false},
		"root":       {true, false, false, false, false},
	}
	for role, ok := range want {
		for i, p := range perms {
			if got := role.Can(p); got != ok[i] {
				t.Errorf("%q.Can(%s) = %v; want %v", role, p, got, ok[i])
			}
		}
	}
	if Lesser(RoleAdmin, RoleViewer) != RoleViewer || Lesser(RoleUploader, RoleAdmin) != RoleUploader || Lesser(RoleAdmin, "") != "" {
		t.Error("Lesser does not pick the less powerful role")
	}
	if _, err := ParseUserRole("uploader"); err == nil {
		t.Error("an account may not be an uploader")
	}
	if r, err := ParseTokenRole("uploader"); err != nil || r != RoleUploader {
		t.Errorf("token role uploader: %v %v", r, err)
	}
	for _, bad := range []string{"", "Admin", "root"} {
		if _, err := ParseTokenRole(bad); err == nil {
			t.Errorf("token role %q accepted", bad)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	for _, ok := range []string{"alice", "a.b-c_d@example.com", "X1"} {
		if err := CheckUsername(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "<script>", "al\u200bice", "ümlaut", string(make([]byte, 65))} {
		if err := CheckUsername(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCSRF(t *testing.T) {
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := &CSRF{Box: box}
	// Before sign-in: the page sets a pre-session cookie and binds to it.
	rec := httptest.NewRecorder()
	page := httptest.NewRequest("GET", "/login", nil)
	tok := c.Token(rec, page)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != CSRFCookie || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("pre-session cookie = %+v", cookies)
	}
	post := httptest.NewRequest("POST", "/login", nil)
	post.AddCookie(cookies[0])
	if !c.Valid(post, tok) {
		t.Error("the page's own token is refused")
	}
	if c.Valid(post, tok+"x") || c.Valid(post, "") {
		t.Error("a wrong or empty token is accepted")
	}
	if c.Valid(httptest.NewRequest("POST", "/login", nil), tok) {
		t.Error("a token without its cookie is accepted")
	}
	// After sign-in the session cookie binds it, and takes precedence.
	signed := httptest.NewRequest("GET", "/", nil)
	signed.AddCookie(&http.Cookie{Name: CookieName, Value: "session-one-0123456789-0123456789-0123456789"})
	signed.AddCookie(cookies[0])
	stok := c.Token(httptest.NewRecorder(), signed)
	if stok == tok || !c.Valid(signed, stok) || c.Valid(signed, tok) {
		t.Error("the session's token is not bound to the session")
	}
	other := httptest.NewRequest("POST", "/", nil)
	other.AddCookie(&http.Cookie{Name: CookieName, Value: "session-two-0123456789-0123456789-0123456789"})
	if c.Valid(other, stok) {
		t.Error("one session's token works for another")
	}
	// Another key makes other tokens.
	box2, _ := secret.New(append(make([]byte, 31), 1))
	if (&CSRF{Box: box2}).Valid(signed, stok) {
		t.Error("a token is valid under another server key")
	}
}
