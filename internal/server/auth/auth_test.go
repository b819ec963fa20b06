package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/server/secret"
	"github.com/rampart-sec/rampart/internal/store"
)

var cheap = Params{Memory: 1024, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not argon2id with the default parameters", h)
	}
	if err := VerifyPassword(h, "correct horse battery"); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := VerifyPassword(h, "correct horse batterz"); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery", cheap)
	if h2 == h {
		t.Error("two hashes of one password are equal (no salt?)")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
		if err := VerifyPassword(bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("malformed hash %q: %v", bad, err)
		}
	}
	if CheckPassword("short") == nil {
		t.Error("short password accepted")
	}
}

// A stored hash is input: ones argon2 cannot run (zero passes made
// argon2.IDKey panic and took the server down on a sign-in), trailing
// text after the parameters, parameters out of order or out of range, and
// a salt too short are errors, not panics and not mismatches.
func TestVerifyPasswordRefusesBadParameters(t *testing.T) {
	const salt, sum = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaA"
	for _, params := range []string{
		"m=1024,t=0,p=1",    // zero passes: argon2.IDKey panics
		"m=1024,t=1,p=0",    // zero lanes
		"m=4,t=1,p=1",       // under 8 KiB per lane
		"m=1024,t=21,p=1",   // too many passes
		"m=4194304,t=1,p=1", // 4 GiB
		"m=1024,t=1,p=256",  // lanes do not fit argon2's uint8
		"m=1024,t=1,p=1x",   // trailing text
		"t=1,m=1024,p=1",    // out of order
		"m=1024,t=1",        // one missing
		"m=-1,t=1,p=1",
		"m=1024,t=1,p=1,k=2",
	} {
		enc := "$argon2id$v=19$" + params + "$" + salt + "$" + sum
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s: panic: %v", params, r)
				}
			}()
			if err := VerifyPassword(enc, "pw"); err == nil || errors.Is(err, ErrMismatch) {
				t.Errorf("%s: %v; want a malformed-hash error", params, err)
			}
		}()
	}
	for _, enc := range []string{
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$" + sum,        // 4-byte salt
		"$argon2id$v=19x$m=1024,t=1,p=1$" + salt + "$" + sum, // version with trailing text
		"x$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + sum,
	} {
		if err := VerifyPassword(enc, "pw"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("%s: %v; want a malformed-hash error", enc, err)
		}
	}
	if _, err := HashPassword("correct horse battery", Params{Memory: 1024, Time: 0, Threads: 1}); err == nil {
		t.Error("HashPassword with zero passes: no error")
	}
	// Valid parameters still verify, and a wrong password is a mismatch.
	h, err := HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyPassword(h, "correct horse battery"); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// FuzzVerifyPassword: no encoded hash makes verification panic or run
// away (parameters are bounded), and hashing then verifying round-trips:
// the password matches its own hash, any other password does not.
func FuzzVerifyPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "pw")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$", "")
	f.Add("$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "pw")
	f.Fuzz(func(t *testing.T, enc, pw string) {
		if err := VerifyPassword(enc, pw); err == nil {
			if _, _, _, perr := parseHash(enc); perr != nil {
				t.Fatalf("verified against a hash parseHash refuses: %v", perr)
			}
		}
		if len(pw) > 64 {
			return // hashing cost, not coverage
		}
		h, err := HashPassword(pw, cheap)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyPassword(h, pw); err != nil {
			t.Fatalf("%q does not verify against its own hash: %v", pw, err)
		}
		if err := VerifyPassword(h, pw+"x"); !errors.Is(err, ErrMismatch) {
			t.Fatalf("%q+x against the hash of %q: %v; want a mismatch", pw, pw, err)
		}
	})
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limiter{Max: 3, Window: time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allowed("1.2.3.4"); !ok {
			t.Fatalf("locked after %d failures", i)
		}
		l.Fail("1.2.3.4")
	}
	if ok, until := l.Allowed("1.2.3.4"); ok || !until.Equal(now.Add(time.Minute)) {
		t.Errorf("not locked after 3 failures (%v %v)", ok, until)
	}
	if ok, _ := l.Allowed("5.6.7.8"); !ok {
		t.Error("another client is locked too")
	}
	now = now.Add(61 * time.Second)
	if ok, _ := l.Allowed("1.2.3.4"); !ok {
		t.Error("still locked after the window")
	}
}

func TestSetupAndSessions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, err := secret.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &Setup{Store: st, Box: box, TTL: time.Hour, Params: cheap}
	tok, err := s.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Setting(ctx, setupKey); strings.Contains(v, tok) {
		t.Fatal("the setup token is stored in clear")
	}
	if _, err := s.Redeem(ctx, tok+"x", "admin", "a long enough password"); err == nil {
		t.Error("wrong token accepted")
	}
	if _, err := s.Redeem(ctx, tok, "admin", "short"); err == nil {
		t.Error("weak password accepted")
	}
	u, err := s.Redeem(ctx, tok, "admin", "a long enough password")
	if err != nil || u.Role != string(RoleAdmin) {
		t.Fatalf("redeem: %+v, %v", u, err)
	}
	if _, err := s.Redeem(ctx, tok, "admin2", "a long enough password"); !errors.Is(err, ErrSetupDone) {
		t.Errorf("token redeemed twice: %v", err)
	}

	ss := &Sessions{Store: st, TTL: time.Hour}
	rec := httptest.NewRecorder()
	if err := ss.Start(ctx, rec, u); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || len(c.Value) < 40 || c.Name != CookieName {
		t.Errorf("session cookie %+v is not Secure/HttpOnly/SameSite=Strict with a long ID", c)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(c)
	if got, err := ss.User(req); err != nil || got.Username != "admin" {
		t.Errorf("session user = %+v, %v", got, err)
	}
	ss.End(httptest.NewRecorder(), req)
	if _, err := ss.User(req); err == nil {
		t.Error("session still valid after sign-out")
	}
}

func TestLimiterAttemptCountsFirst(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limiter{Max: 3, Window: time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if ok, _ := l.Attempt("ip:a", "user:x"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if ok, until := l.Attempt("ip:a", "user:x"); ok || !until.Equal(now.Add(time.Minute)) {
		t.Errorf("fourth attempt: %v %v; want refused until the window ends", ok, until)
	}
	// A locked key refuses without counting against the other key.
	if ok, _ := l.Attempt("ip:b", "user:x"); ok {
		t.Error("user:x is locked, yet another address may try it")
	}
	if ok, _ := l.Allowed("ip:b"); !ok {
		t.Error("a refused attempt was counted against ip:b")
	}
	l.Succeed("ip:a")
	l.Succeed("user:x")
	if ok, _ := l.Attempt("ip:a", "user:x"); !ok {
		t.Error("still locked after success was recorded")
	}
}

func TestGate(t *testing.T) {
	g := NewGate(2)
	first, second := g.TryAcquire(), g.TryAcquire()
	if !first || !second {
		t.Fatal("two slots not free")
	}
	if g.TryAcquire() {
		t.Error("a third slot was taken")
	}
	g.Release()
	if !g.TryAcquire() {
		t.Error("a released slot was not free")
	}
}

func TestLimiterBackoff(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limiter{Max: 2, Window: time.Minute, MaxLock: 5 * time.Minute, Now: func() time.Time { return now }}
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		l.Attempt("k")
		if ok, _ := l.Attempt("k"); !ok {
			t.Fatal("refused before the limit")
		}
		ok, until := l.Allowed("k")
		if ok || until.Sub(now) != want {
			t.Fatalf("lock-out %v; want %v", until.Sub(now), want)
		}
		now = until
	}
	l.Succeed("k")
	l.Attempt("k")
	l.Attempt("k")
	if _, until := l.Allowed("k"); until.Sub(now) != time.Minute {
		t.Errorf("after a success the lock-out starts again at %v; got %v", time.Minute, until.Sub(now))
	}
}
