// Package oidctest starts a real OpenID Connect provider for tests: the
// provider of github.com/zitadel/oidc/v3 (its example OP: discovery, the
// authorization code flow with PKCE, signed ID tokens, userinfo) with its
// own sign-in form, over HTTPS on a loopback port of its own, with users
// and groups the test chooses. Only tests import it (the rampart binary
// never does: internal/archtest and `go list -deps ./cmd/rampart` keep it
// so).
package oidctest

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person the provider can sign in.
type User struct {
	Subject, Username, Password, Email string
	Groups                             []string
}

// Provider is a running OpenID Connect provider.
type Provider struct {
	// Issuer is its https URL; CAFile a PEM file of the CA its
	// certificate chains to (for rampart's oidc.ca_bundle).
	Issuer, CAFile string
	// ClientID and ClientSecret are the registered client's.
	ClientID, ClientSecret string
	// Server is the HTTPS server (Server.Certificate() for browsers).
	Server *httptest.Server

	mu        sync.Mutex
	redirects []string
	users     *userStore
}

// SetGroups changes a user's groups (as the organisation's directory
// would).
func (p *Provider) SetGroups(subject string, groups ...string) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	u := p.users.users[subject]
	u.Groups = groups
	p.users.users[subject] = u
}

// AllowRedirect registers a callback URL of the client.
func (p *Provider) AllowRedirect(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirects = append(p.redirects, u)
}

// Options change how the provider answers.
type Options struct {
	// GroupsInIDToken puts the groups claim in the ID token (as Dex and
	// Keycloak do); otherwise only the userinfo endpoint has it, and the
	// ID token has no profile claims either (the OIDC Core default when an
	// access token is issued).
	GroupsInIDToken bool
}

// Start runs a provider until the test ends.
func Start(t testing.TB, opt Options, users ...User) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	p := &Provider{Issuer: "https://" + srv.Listener.Addr().String(), ClientID: "rampart", ClientSecret: "rampart-client-secret", Server: srv}
	us := &userStore{users: map[string]User{}}
	for _, u := range users {
		us.users[u.Subject] = u
	}
	p.users = us
	web := storage.WebClient(p.ClientID, p.ClientSecret)
	st := &store{Storage: storage.NewStorageWithClients(us, map[string]*storage.Client{p.ClientID: web}), users: us, opt: opt, p: p}
	srv.Config.Handler = exampleop.SetupServer(p.Issuer, st, nil, false)
	srv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.CAFile = filepath.Join(t.TempDir(), "idp-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p.CAFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// userStore is the provider's users, by subject.
type userStore struct {
	mu    sync.Mutex
	users map[string]User
}

func toStorage(u User) *storage.User {
	return &storage.User{ID: u.Subject, Username: u.Username, Password: u.Password, FirstName: u.Username, Email: u.Email,
		EmailVerified: true, PreferredLanguage: language.English}
}

func (us *userStore) groups(subject string) []string {
	us.mu.Lock()
	defer us.mu.Unlock()
	return slices.Clone(us.users[subject].Groups)
}

func (us *userStore) GetUserByID(id string) *storage.User {
	us.mu.Lock()
	defer us.mu.Unlock()
	u, ok := us.users[id]
	if !ok {
		return nil
	}
	return toStorage(u)
}

func (us *userStore) GetUserByUsername(name string) *storage.User {
	us.mu.Lock()
	defer us.mu.Unlock()
	for _, u := range us.users {
		if u.Username == name {
			return toStorage(u)
		}
	}
	return nil
}

func (us *userStore) ExampleClientID() string { return "service" }

// store is the example OP's in-memory storage with a groups claim and
// the test's redirect URLs.
type store struct {
	*storage.Storage
	users *userStore
	opt   Options
	p     *Provider
}

// GetClientByClientID wraps the registered client.
func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{Client: c, p: s.p}, nil
}

// SetUserinfoFromRequest fills in the ID token's claims.
func (s *store) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	if s.opt.GroupsInIDToken && slices.Contains(scopes, "groups") {
		ui.AppendClaims("groups", s.users.groups(req.GetSubject()))
	}
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint, groups included.
func (s *store) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	if ui.Subject != "" {
		ui.AppendClaims("groups", s.users.groups(ui.Subject))
	}
	return nil
}

// client is the registered client with the test's redirect URLs and the
// groups scope allowed.
type client struct {
	op.Client
	p *Provider
}

func (c *client) RedirectURIs() []string {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return slices.Clone(c.p.redirects)
}

func (c *client) IsScopeAllowed(scope string) bool {
	return scope == "groups" || c.Client.IsScopeAllowed(scope)
}
