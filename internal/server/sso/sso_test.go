package sso

import (
	"slices"
	"testing"
)

// Roles come from a claim read by a dotted path, as an array or one
// string; admin wins over viewer; unmapped people get the default role
// (none: refused).
func TestRoleFromClaims(t *testing.T) {
	claims := map[string]any{
		"groups":       []any{"staff", "sec-readers", 7},
		"realm_access": map[string]any{"roles": []any{"rampart-admin"}},
		"team":         "ops",
		"dotted.name":  "x",
	}
	if got := values(lookup(claims, "groups")); !slices.Equal(got, []string{"staff", "sec-readers"}) {
		t.Errorf("groups: %v", got)
	}
	if got := values(lookup(claims, "realm_access.roles")); !slices.Equal(got, []string{"rampart-admin"}) {
		t.Errorf("nested: %v", got)
	}
	if got := values(lookup(claims, "team")); !slices.Equal(got, []string{"ops"}) {
		t.Errorf("string claim: %v", got)
	}
	if lookup(claims, "dotted.name") != "x" || lookup(claims, "realm_access.nope") != nil || lookup(claims, "team.x") != nil {
		t.Error("lookup of a literal dotted name or a missing path")
	}
	f := &Flow{cfg: Config{Roles: map[string][]string{RoleAdmin: {"rampart-admin"}, RoleViewer: {"sec-readers", "rampart-admin"}}}}
	for _, c := range []struct {
		vals []string
		def  string
		want string
	}{
		{[]string{"sec-readers", "rampart-admin"}, "", RoleAdmin},
		{[]string{"sec-readers"}, "", RoleViewer},
		{[]string{"marketing"}, "", ""},
		{nil, RoleViewer, RoleViewer},
	} {
		f.cfg.DefaultRole = c.def
		if got := f.role(c.vals); got != c.want {
			t.Errorf("role(%v, default %q) = %q; want %q", c.vals, c.def, got, c.want)
		}
	}
}

// Issuers and callbacks must be https (http only on loopback).
func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://idp.example.com/realms/x": true, "http://127.0.0.1:5556/dex": true, "http://localhost:1": true,
		"http://idp.example.com": false, "https://u:p@idp.example.com": false, "https://idp.example.com/?a=b": false, "idp.example.com": false, "": false,
	} {
		if err := checkURL(u); (err == nil) != ok {
			t.Errorf("checkURL(%q) = %v", u, err)
		}
	}
}
