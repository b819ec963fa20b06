package auth

import (
	"fmt"
	"strings"
)

// Role is what an account or an API token may do.
type Role string

// Roles. Accounts are admins or viewers; API tokens may also be uploaders
// (what a CI pipeline needs: send its scans, read the results).
const (
	// RoleAdmin may do everything: users, tokens, schedules, alerts.
	RoleAdmin Role = "admin"
	// RoleUploader reads the dashboard's data through the API and uploads
	// scan reports. Tokens only.
	RoleUploader Role = "uploader"
	// RoleViewer reads the dashboard and the API and changes nothing but
	// its own password.
	RoleViewer Role = "viewer"
)

// UserRoles are the roles an account may have.
func UserRoles() []Role { return []Role{RoleViewer, RoleAdmin} }

// TokenRoles are the roles an API token may have, least first.
func TokenRoles() []Role { return []Role{RoleViewer, RoleUploader, RoleAdmin} }

func parseRole(s string, allowed []Role) (Role, error) {
	for _, r := range allowed {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, len(allowed))
	for i, r := range allowed {
		names[i] = string(r)
	}
	return "", fmt.Errorf("role %q: want %s", s, strings.Join(names, " or "))
}

// ParseUserRole checks an account's role.
func ParseUserRole(s string) (Role, error) { return parseRole(s, UserRoles()) }

// ParseTokenRole checks an API token's role.
func ParseTokenRole(s string) (Role, error) { return parseRole(s, TokenRoles()) }

// rank orders roles by power; unknown roles rank lowest.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleUploader:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Lesser returns the less powerful of two roles: a token acts with the
// lesser of its own role and its owner's, so demoting a user demotes the
// tokens they made.
func Lesser(a, b Role) Role {
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// Perm is what a route needs.
type Perm int

// Permissions, from none to all.
const (
	// PermPublic routes need no sign-in (sign-in, setup, static files).
	PermPublic Perm = iota
	// PermSelf is a signed-in user's own account (password change).
	PermSelf
	// PermRead is reading the dashboard and the API.
	PermRead
	// PermUpload is uploading a scan report.
	PermUpload
	// PermAdmin is changing anything else: users, tokens, schedules,
	// alerts, and reading the audit log.
	PermAdmin
)

func (p Perm) String() string {
	switch p {
	case PermPublic:
		return "public"
	case PermSelf:
		return "self"
	case PermRead:
		return "read"
	case PermUpload:
		return "upload"
	case PermAdmin:
		return "admin"
	}
	return fmt.Sprintf("perm(%d)", int(p))
}

// Can reports whether the role has the permission.
func (r Role) Can(p Perm) bool {
	switch p {
	case PermPublic:
		return true
	case PermSelf:
		return r == RoleAdmin || r == RoleViewer
	case PermRead:
		return r.rank() > 0
	case PermUpload:
		return r == RoleUploader || r == RoleAdmin
	case PermAdmin:
		return r == RoleAdmin
	}
	return false
}
