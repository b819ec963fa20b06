package auth

import (
	"crypto/subtle"
	"net/http"

	"github.com/rampart-sec/rampart/internal/server/secret"
)

// CSRFCookie binds forms shown before sign-in (sign-in, setup, a setup
// link) to the browser; after sign-in the session cookie does.
const CSRFCookie = "__Host-rampart_csrf"

// CSRFField is the form field (and X-CSRF-Token the header) that carries
// the token.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// CSRF makes and checks anti-forgery tokens: an HMAC, under the server's
// key, of a secret value of the browser (its session ID, or before
// sign-in a random pre-session cookie). Another site can neither read the
// cookie nor compute the token; the __Host- prefix keeps subdomains from
// planting a cookie of their own.
type CSRF struct {
	Box *secret.Box
}

// binding is the browser's secret the token is tied to.
func binding(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return "s:" + c.Value
	}
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 {
		return "p:" + c.Value
	}
	return ""
}

// Token returns the token for forms on a page answering r. Before sign-in
// it sets the pre-session cookie on w if r had none.
func (c *CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	b := binding(r)
	if b == "" {
		v := secret.Token("")
		http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: v, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		// Later calls for the same request see it too.
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: v})
		b = "p:" + v
	}
	return c.Box.Keyed("csrf", b)
}

// Valid checks the token a state-changing request carries.
func (c *CSRF) Valid(r *http.Request, token string) bool {
	b := binding(r)
	if b == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Box.Keyed("csrf", b)), []byte(token)) == 1
}
