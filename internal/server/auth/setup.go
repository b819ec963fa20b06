package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/server/secret"
	"github.com/rampart-sec/rampart/internal/store"
)

// setupKey is the setting holding the setup token's keyed hash and expiry.
const setupKey = "auth.setup_token"

// ErrSetupDone is returned once an admin exists.
var ErrSetupDone = errors.New("setup is done: an admin exists")

// SetupStore is what the first admin's setup needs of the store.
type SetupStore interface {
	CountUsers(ctx context.Context) (int, error)
	SetSetting(ctx context.Context, key, value string) error
	// CreateFirstAdmin creates the first admin in one transaction, only
	// while no user exists and only if check accepts the setting's value
	// (the setup token's hash), deleting the setting with it.
	CreateFirstAdmin(ctx context.Context, setting string, check func(value string) error, u store.NewUser, a store.Audit) (store.User, error)
}

// Setup issues and redeems the one-time token that creates the first
// admin, so the server never has a default credential.
type Setup struct {
	Store SetupStore
	Box   *secret.Box
	TTL   time.Duration
	Now   func() time.Time
	// Params are the password hash costs.
	Params Params
}

func (s *Setup) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Needed reports whether no user exists yet.
func (s *Setup) Needed(ctx context.Context) (bool, error) {
	n, err := s.Store.CountUsers(ctx)
	return n == 0, err
}

// Issue makes a new setup token (replacing any earlier one) and returns
// it; only its keyed hash is stored.
func (s *Setup) Issue(ctx context.Context) (string, error) {
	tok := secret.Token("rampart-setup-")
	exp := s.now().Add(s.TTL)
	if err := s.Store.SetSetting(ctx, setupKey, s.Box.Hash(tok)+":"+strconv.FormatInt(exp.Unix(), 10)); err != nil {
		return "", err
	}
	return tok, nil
}

// Redeem checks the token and creates the first admin. The check, the
// token's retirement and the account's creation are one transaction: of
// concurrent attempts with one token, one creates an admin and the others
// get ErrSetupDone.
func (s *Setup) Redeem(ctx context.Context, token, username, password string) (store.User, error) {
	if need, err := s.Needed(ctx); err != nil {
		return store.User{}, err
	} else if !need {
		return store.User{}, ErrSetupDone
	}
	want := s.Box.Hash(token)
	now := s.now()
	check := func(v string) error {
		hash, expS, _ := strings.Cut(v, ":")
		exp, _ := strconv.ParseInt(expS, 10, 64)
		if subtle.ConstantTimeCompare([]byte(hash), []byte(want)) != 1 {
			return errWrongToken
		}
		if now.Unix() > exp {
			return errExpiredToken
		}
		return nil
	}
	u, err := s.create(ctx, username, password, "with the setup token", check)
	if errors.Is(err, store.ErrNotFound) {
		return u, errors.New("no setup token is outstanding; restart the server for a new one")
	}
	return u, err
}

var (
	errWrongToken   = errors.New("wrong setup token")
	errExpiredToken = errors.New("the setup token has expired; restart the server for a new one")
)

// CreateAdmin creates the first admin directly (from a secret given at
// start) and retires the setup token. how says how (for the audit log).
func (s *Setup) CreateAdmin(ctx context.Context, username, password, how string) (store.User, error) {
	return s.create(ctx, username, password, how, nil)
}

func (s *Setup) create(ctx context.Context, username, password, how string, check func(string) error) (store.User, error) {
	username = strings.TrimSpace(username)
	if err := CheckUsername(username); err != nil {
		return store.User{}, err
	}
	if err := CheckPassword(password); err != nil {
		return store.User{}, err
	}
	h, err := HashPassword(password, s.Params)
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	u, err := s.Store.CreateFirstAdmin(ctx, setupKey, check, store.NewUser{Username: username, Role: string(RoleAdmin), PasswordHash: h, Now: now},
		store.Audit{At: now, Actor: "system", Action: "user.create", Subject: username, Detail: "first admin, " + how})
	switch {
	case errors.Is(err, store.ErrNotFirst):
		return u, ErrSetupDone
	case errors.Is(err, errWrongToken):
		return u, errWrongToken
	case errors.Is(err, errExpiredToken):
		return u, errExpiredToken
	case err != nil:
		return u, fmt.Errorf("create admin: %w", err)
	}
	return u, nil
}

// CheckUsername enforces the user name rule: 1-64 letters, digits and
// . _ @ - (no spaces, nothing that looks like markup).
func CheckUsername(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("user name must be 1-64 characters")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)
		if !ok {
			return errors.New("user name may hold only letters, digits and . _ @ -")
		}
	}
	return nil
}
