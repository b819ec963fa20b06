package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Regression tests of the holes a penetration test found (issue 12). Each
// replays the attack and expects it to be refused.

// An Authorization header, even an invalid one, on a request that a
// browser's session cookie authenticates must not switch off the form
// token check: CSRF protection depends on how a request is
// authenticated, not on which headers it carries.
func TestBearerHeaderDoesNotSkipFormToken(t *testing.T) {
	ts := startServer(t, "schedules:\n  - {name: nightly, every: 24h}\ninventory:\n  targets:\n    - {name: a, address: 127.0.0.1:1}\n")
	ts.signUp(t)
	ctx := context.Background()
	post := func(path string, v url.Values, hdr map[string]string) int {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, x := range hdr {
			h[k] = x
		}
		resp, _ := ts.do(t, "POST", path, strings.NewReader(v.Encode()), h)
		return resp.StatusCode
	}
	for _, authz := range []string{"Bearer junk", "Bearer ", "Basic YWRtaW46YWRtaW4="} {
		hdr := map[string]string{"Authorization": authz}
		// A dashboard form: the session cookie authenticates it, so the
		// form token is needed whatever else is sent.
		if got := post("/users", url.Values{"username": {"mallory"}, "role": {"admin"}}, hdr); got != http.StatusForbidden {
			t.Errorf("POST /users with a session, %q and no form token: %d; want 403", authz, got)
		}
		if _, err := ts.srv.store.UserByName(ctx, "mallory"); err == nil {
			t.Fatalf("a forged post with %q created a user", authz)
		}
		// A public form (sign-out ends the session a forged post would
		// otherwise end): the token is needed too.
		if got := post("/logout", url.Values{}, hdr); got != http.StatusForbidden {
			t.Errorf("POST /logout with %q and no form token: %d; want 403", authz, got)
		}
		// An API call with a bad token is refused; the cookie beside it
		// does not stand in for the token.
		if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, hdr); got != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/schedules/run with a session and %q: %d; want 401", authz, got)
		}
	}
	// An API call authenticated by the session alone is a browser's: it
	// needs the form token (header) too.
	if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, nil); got != http.StatusForbidden {
		t.Errorf("POST /api/v1/schedules/run with a session and no form token: %d; want 403", got)
	}
	if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, map[string]string{"X-CSRF-Token": ts.csrf(t)}); got != http.StatusAccepted {
		t.Errorf("POST /api/v1/schedules/run with a session and its form token: %d; want 202", got)
	}
	// The session still works: nothing above signed it out.
	if resp, _ := ts.do(t, "GET", "/account", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("account page after the forged posts: %d", resp.StatusCode)
	}
}
