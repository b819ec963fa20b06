// Package sso signs people in to the dashboard through their
// organisation's OpenID Connect provider: the authorization code flow with
// PKCE (S256), a state and a nonce bound to the browser by a short-lived
// sealed cookie, the ID token verified with go-oidc (signature, issuer,
// audience, expiry, nonce), and the dashboard role taken from a claim
// (groups, roles, ...) through a configured mapping.
package sso

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is the oidc section of serve.yaml.
type Config struct {
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer/.well-known/openid-configuration).
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret, or better ClientSecretFile, is the client's secret
	// (empty for a public client: PKCE alone).
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is this server's callback as registered with the
	// provider: https://HOST:PORT/oidc/callback. Without it, the address
	// the browser used is taken (https://Host/oidc/callback); the
	// provider accepts only registered callbacks either way.
	RedirectURL string `yaml:"redirect_url"`
	// Name labels the sign-in button ("Sign in with NAME").
	Name string `yaml:"name"`
	// Scopes are asked for besides openid (default profile, email).
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the dashboard account (default
	// preferred_username); RolesClaim holds the values mapped to roles
	// (default groups). A dotted name reads a nested claim
	// (realm_access.roles).
	UsernameClaim string `yaml:"username_claim"`
	RolesClaim    string `yaml:"roles_claim"`
	// Roles maps a dashboard role (admin, viewer) to the claim values
	// that grant it; admin wins over viewer.
	Roles map[string][]string `yaml:"roles"`
	// DefaultRole is given when no value maps to a role: "" (the
	// default) refuses the sign-in, viewer lets anyone the provider
	// signs in read the dashboard.
	DefaultRole string `yaml:"default_role"`
	// CABundle holds CAs to trust for the provider (besides the system's).
	CABundle string `yaml:"ca_bundle"`
}

// Roles a claim can map to.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// Defaults fills in what was left out.
func (c *Config) Defaults() {
	if c.UsernameClaim == "" {
		c.UsernameClaim = "preferred_username"
	}
	if c.RolesClaim == "" {
		c.RolesClaim = "groups"
	}
	if c.Scopes == nil {
		c.Scopes = []string{"profile", "email"}
	}
	if c.Name == "" {
		c.Name = "single sign-on"
	}
}

// Enabled reports whether OpenID Connect is configured.
func (c *Config) Enabled() bool { return c.Issuer != "" || c.ClientID != "" }

// Problems lists what is wrong with the configuration (nil: nothing).
func (c *Config) Problems() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, "oidc: "+fmt.Sprintf(format, a...)) }
	if err := checkURL(c.Issuer); err != nil {
		add("issuer %q: %v", c.Issuer, err)
	}
	if c.ClientID == "" {
		add("client_id is required")
	}
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		add("give client_secret or client_secret_file, not both")
	}
	if c.RedirectURL != "" {
		if err := checkURL(c.RedirectURL); err != nil {
			add("redirect_url %q: %v", c.RedirectURL, err)
		} else if u, _ := url.Parse(c.RedirectURL); u.Path != CallbackPath {
			add("redirect_url %q: its path must be %s", c.RedirectURL, CallbackPath)
		}
	}
	n := 0
	for role, vals := range c.Roles {
		if role != RoleAdmin && role != RoleViewer {
			add("roles: %q is not a dashboard role (admin or viewer)", role)
		}
		n += len(vals)
	}
	if c.DefaultRole != "" && c.DefaultRole != RoleViewer {
		add("default_role %q: want viewer, or leave it out to refuse people no role maps to", c.DefaultRole)
	}
	if n == 0 && c.DefaultRole == "" {
		add("roles: map at least one %s value to admin or viewer (or set default_role: viewer)", c.RolesClaim)
	}
	return out
}

// checkURL accepts https URLs, and http ones on a loopback address only.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want an https:// URL without query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" || h == "::1" {
			return nil
		}
	}
	return errors.New("want https (http only on localhost)")
}

// Paths this package's handlers are served at.
const (
	LoginPath    = "/oidc/login"
	CallbackPath = "/oidc/callback"
)

// flowCookie holds a sign-in under way: its state, nonce and PKCE
// verifier, sealed. The __Host- prefix pins it to this host; SameSite=Lax
// lets the provider's redirect back (a cross-site top-level GET) carry it.
const flowCookie = "__Host-rampart_oidc"

// flowTTL bounds how long a sign-in at the provider may take.
const flowTTL = 10 * time.Minute

// Sealer seals and opens small secrets (internal/server/secret.Box).
type Sealer interface {
	Seal(label string, plaintext []byte) string
	Open(label, sealed string) ([]byte, error)
}

// Flow runs sign-ins against one provider.
type Flow struct {
	cfg    Config
	secret string
	box    Sealer
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
}

// New prepares the flow; the provider is discovered at the first sign-in
// (and again until that succeeds), so the server starts while it is down.
func New(cfg Config, box Sealer, now func() time.Time) (*Flow, error) {
	cfg.Defaults()
	secret := cfg.ClientSecret
	if cfg.ClientSecretFile != "" {
		b, err := os.ReadFile(cfg.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc client secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CABundle != "" {
		pem, err := os.ReadFile(cfg.CABundle)
		if err != nil {
			return nil, fmt.Errorf("oidc ca_bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("oidc ca_bundle %s: no PEM certificate", cfg.CABundle)
		}
		tc.RootCAs = pool
	}
	if now == nil {
		now = time.Now
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Flow{cfg: cfg, secret: secret, box: box, client: client, now: now}, nil
}

// Name is the provider's label for the sign-in button.
func (f *Flow) Name() string { return f.cfg.Name }

func (f *Flow) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, f.client) }

// discover returns the provider, reading its discovery document once.
func (f *Flow) discover(ctx context.Context) (*oidc.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.provider != nil {
		return f.provider, nil
	}
	p, err := oidc.NewProvider(f.ctx(ctx), f.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("identity provider %s: %w", f.cfg.Issuer, err)
	}
	f.provider = p
	return p, nil
}

func (f *Flow) oauth(p *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: f.cfg.ClientID, ClientSecret: f.secret, RedirectURL: redirect,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, f.cfg.Scopes...)}
}

// pending is the sealed content of the flow cookie.
type pending struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Redirect string    `json:"r"`
	Expires  time.Time `json:"e"`
}

const sealLabel = "oidc.flow"

// Begin starts a sign-in: it sets the flow cookie and returns the
// provider's authorization URL to send the browser to.
func (f *Flow) Begin(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	p, err := f.discover(ctx)
	if err != nil {
		return "", err
	}
	redirect := f.cfg.RedirectURL
	if redirect == "" {
		redirect = "https://" + r.Host + CallbackPath
	}
	pd := pending{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(), Redirect: redirect, Expires: f.now().Add(flowTTL)}
	b, err := json.Marshal(pd)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: f.box.Seal(sealLabel, b), Path: "/", MaxAge: int(flowTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return f.oauth(p, redirect).AuthCodeURL(pd.State, oidc.Nonce(pd.Nonce), oauth2.S256ChallengeOption(pd.Verifier)), nil
}

// Identity is who the provider signed in, and the role they map to.
type Identity struct {
	Issuer, Subject string
	Username        string
	Role            string
	// Values are the roles claim's values (for the audit log).
	Values []string
}

// Error is a sign-in the flow refused; Reason says why (for the audit
// log and the sign-in page), Who names the person when known.
type Error struct {
	Reason string
	Who    string
	err    error
}

func (e *Error) Error() string {
	if e.err != nil {
		return e.Reason + ": " + e.err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.err }

func refuse(who, reason string, err error) error { return &Error{Reason: reason, Who: who, err: err} }

// Finish completes a sign-in at the callback: the state must be the flow
// cookie's (else the callback was not asked for by this browser), the
// code is exchanged with the PKCE verifier, and the ID token must verify
// and carry the cookie's nonce. The flow cookie is cleared whatever the
// outcome: a callback works once.
func (f *Flow) Finish(ctx context.Context, w http.ResponseWriter, r *http.Request) (Identity, error) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	var pd pending
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return Identity{}, refuse("", "no sign-in under way in this browser (or it took longer than 10 minutes)", nil)
	}
	b, err := f.box.Open(sealLabel, c.Value)
	if err != nil || json.Unmarshal(b, &pd) != nil {
		return Identity{}, refuse("", "the sign-in cookie is not this server's", nil)
	}
	if !f.now().Before(pd.Expires) {
		return Identity{}, refuse("", "the sign-in took longer than 10 minutes", nil)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pd.State)) != 1 {
		return Identity{}, refuse("", "the state does not match this browser's sign-in", nil)
	}
	if e := q.Get("error"); e != "" {
		return Identity{}, refuse("", "the identity provider refused: "+clipText(e+" "+q.Get("error_description"), 200), nil)
	}
	code := q.Get("code")
	if code == "" {
		return Identity{}, refuse("", "the identity provider sent no code", nil)
	}
	p, err := f.discover(ctx)
	if err != nil {
		return Identity{}, refuse("", "the identity provider cannot be reached", err)
	}
	cctx := f.ctx(ctx)
	oc := f.oauth(p, pd.Redirect)
	tok, err := oc.Exchange(cctx, code, oauth2.VerifierOption(pd.Verifier))
	if err != nil {
		return Identity{}, refuse("", "the code could not be exchanged", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, refuse("", "the identity provider sent no ID token", nil)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: f.cfg.ClientID, Now: f.now}).Verify(cctx, raw)
	if err != nil {
		return Identity{}, refuse("", "the ID token does not verify", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pd.Nonce)) != 1 {
		return Identity{}, refuse(idt.Subject, "the ID token's nonce is not this sign-in's", nil)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, refuse(idt.Subject, "the ID token's claims cannot be read", err)
	}
	if (lookup(claims, f.cfg.UsernameClaim) == nil || lookup(claims, f.cfg.RolesClaim) == nil) && p.UserInfoEndpoint() != "" {
		// Many providers keep profile and group claims out of the ID token
		// when they issue an access token: ask the userinfo endpoint.
		ui, err := p.UserInfo(cctx, oc.TokenSource(cctx, tok))
		if err != nil {
			return Identity{}, refuse(idt.Subject, "the userinfo endpoint failed", err)
		}
		if ui.Subject != idt.Subject {
			return Identity{}, refuse(idt.Subject, "the userinfo answer is for another subject", nil)
		}
		more := map[string]any{}
		if err := ui.Claims(&more); err != nil {
			return Identity{}, refuse(idt.Subject, "the userinfo claims cannot be read", err)
		}
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	name, _ := lookup(claims, f.cfg.UsernameClaim).(string)
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "\x00\r\n") {
		return Identity{}, refuse(idt.Subject, "no usable "+f.cfg.UsernameClaim+" claim", nil)
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, Username: name, Values: values(lookup(claims, f.cfg.RolesClaim))}
	id.Role = f.role(id.Values)
	if id.Role == "" {
		return id, refuse(name, fmt.Sprintf("no role: %s %v maps to neither admin nor viewer", f.cfg.RolesClaim, id.Values), nil)
	}
	return id, nil
}

// role maps a claim's values to a role (admin first), else the default.
func (f *Flow) role(vals []string) string {
	for _, role := range []string{RoleAdmin, RoleViewer} {
		for _, v := range vals {
			if slices.Contains(f.cfg.Roles[role], v) {
				return role
			}
		}
	}
	return f.cfg.DefaultRole
}

// lookup reads a claim by a dotted path (nil when absent).
func lookup(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// values reads a claim as a list of strings: an array of strings, or one
// string.
func values(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func clipText(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
