package wso2fix

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/fix/tomledit"
)

func revealOf(p *planner, what, value string) fix.Reveal {
	return fix.Reveal{Target: p.in.Target, What: what, Value: value}
}

// admin replaces the default administrator credentials (SEC-002): a new
// name when --admin-user gives one, a generated password kept only in
// Secure Vault, and the same for the MI management API users.
func (p *planner) admin() {
	const rule = "SEC-002"
	if !p.fails(rule) {
		return
	}
	sa := p.prod.SuperAdmin
	var pw, ref string
	password := func() (string, *part) {
		if ref != "" {
			return ref, nil
		}
		var err error
		if pw, err = keygen.Password(p.opt.Rand, 20); err != nil {
			return "", &part{status: fix.Failed, text: err.Error()}
		}
		var why *part
		ref, why = p.secret("admin_password", pw, rule)
		return ref, why
	}
	name := sa.Username.Value
	if p.opt.AdminUser != "" {
		name = p.opt.AdminUser
	}
	var done []string
	if sa.Password.KnownDefault {
		r, why := password()
		if why != nil {
			p.add(rule, *why)
			return
		}
		if p.opt.AdminUser != "" && p.opt.AdminUser != sa.Username.Value {
			p.setKey("super_admin.username", p.opt.AdminUser, rule)
			done = append(done, fmt.Sprintf("[super_admin] renamed %s to %s", sa.Username.Value, p.opt.AdminUser))
		}
		p.setKey("super_admin.password", r, rule)
		p.handled[sa.Password.Key] = rule
		done = append(done, "[super_admin] password generated and kept only in Secure Vault")
	}
	users := p.prod.ManagementUsers
	anyDefault := false
	for _, u := range users {
		anyDefault = anyDefault || u.Password.KnownDefault
	}
	if anyDefault {
		r, why := password()
		if why != nil {
			p.add(rule, *why)
			return
		}
		if p.doc.ArrayLen("internal_apis.users") > 0 {
			// The list is written in deployment.toml: change its entries.
			for i, u := range users {
				if !u.Password.KnownDefault {
					continue
				}
				el := fmt.Sprintf("internal_apis.users[%d]", i)
				if p.opt.AdminUser != "" && u.Username.Value == sa.Username.Value {
					p.doc.Set(el, "user.name", name, rule)
				}
				p.doc.Set(el, "user.password", r, rule)
				p.handled[u.Password.Key] = rule
				done = append(done, "management user "+u.Username.Value+": new password")
			}
		} else {
			// The list comes from the shipped defaults: writing it replaces
			// it, so every user is written again, the defaults' passwords
			// replaced.
			for _, u := range users {
				n := u.Username.Value
				if p.opt.AdminUser != "" && n == sa.Username.Value {
					n = name
				}
				pass := tomledit.Value(r)
				if !u.Password.KnownDefault {
					v, _ := p.raw(u.Password.Key)
					pass = v
				}
				p.doc.AppendArrayElement("internal_apis.users", []tomledit.KV{{Key: "user.name", Value: n}, {Key: "user.password", Value: pass}}, rule)
				p.handled[u.Password.Key] = rule
				done = append(done, "management user "+n+": new password")
			}
		}
	}
	if len(done) == 0 {
		p.manual(rule, "the default credentials are not in deployment.toml's reach (change them in the product)")
		return
	}
	who := name
	if who == "" {
		who = "admin"
	}
	p.reveals = append(p.reveals, revealOf(p, "password of the administrator "+who, pw))
	todo := []string{"[super_admin] only creates the account on a first start: on a deployment that already ran, change the password in the Console or with the SCIM2 /Users API as well"}
	if strings.Contains(p.userStoreType(), "ldap") || strings.Contains(p.userStoreType(), "active_directory") {
		todo = append(todo, "the user store is a directory: set the same password for "+who+" there")
	}
	p.fixed(rule, strings.Join(done, "; "), todo...)
}

func (p *planner) userStoreType() string {
	v, _ := p.raw("user_store.type")
	return strings.ToLower(v)
}

// appPassword replaces the bundled web apps' shipped app_password and its
// hash (SEC-003).
func (p *planner) appPassword() {
	const rule = "SEC-003"
	if !p.fails(rule) {
		return
	}
	pw, err := keygen.Password(p.opt.Rand, 32)
	if err != nil {
		p.failed(rule, err)
		return
	}
	sum := sha256.Sum256([]byte(pw))
	ref, why := p.secret("app_password", pw, rule)
	if why != nil {
		p.add(rule, *why)
		return
	}
	p.setKey("identity.auth_framework.endpoint.app_password", ref, rule)
	p.setKey("account_recovery.endpoint.auth.hash", hex.EncodeToString(sum[:]), rule)
	p.handled["identity.auth_framework.endpoint.app_password"] = rule
	p.fixed(rule, "new app_password in Secure Vault and [account_recovery.endpoint.auth] hash = its SHA-256")
}
