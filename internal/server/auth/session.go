package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rampart-sec/rampart/internal/server/secret"
	"github.com/rampart-sec/rampart/internal/store"
)

// ErrNoSession is returned for a request without a (well-formed)
// session cookie.
var ErrNoSession = errors.New("no session")

// CookieName is the session cookie. The __Host- prefix makes browsers
// insist on Secure, Path=/ and no Domain.
const CookieName = "__Host-rampart_session"

// SessionStore is what sessions need of the store.
type SessionStore interface {
	CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error
	// SessionUser returns the user of an unexpired session, if the
	// account is enabled and has a password.
	SessionUser(ctx context.Context, idHash string, now time.Time) (store.User, error)
	DeleteSession(ctx context.Context, idHash string) error
}

// Sessions creates and checks dashboard sessions. Only the SHA-256 of a
// session ID is stored; the ID itself (256 random bits) lives only in the
// browser's cookie.
type Sessions struct {
	Store SessionStore
	TTL   time.Duration
	Now   func() time.Time
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Start creates a session for u and sets its cookie.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, u store.User) error {
	id := secret.Token("")
	now := s.now()
	if err := s.Store.CreateSession(ctx, hashID(id), u.ID, now, now.Add(s.TTL)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/", MaxAge: int(s.TTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	return nil
}

// User returns the signed-in user of r. A request without a session is
// ErrNoSession, an unknown or expired one store.ErrNotFound; anything
// else is the store's failure.
func (s *Sessions) User(r *http.Request) (store.User, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || len(c.Value) < 40 || len(c.Value) > 100 {
		return store.User{}, ErrNoSession
	}
	u, err := s.Store.SessionUser(r.Context(), hashID(c.Value), s.now())
	if err != nil {
		return u, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// IDHash returns the stored hash of r's session ID ("" without one).
func (s *Sessions) IDHash(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return ""
	}
	return hashID(c.Value)
}

// End deletes r's session and clears the cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		_ = s.Store.DeleteSession(r.Context(), hashID(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}
