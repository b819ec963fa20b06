package wso2fix

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
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
	fileStore := p.fileUserStore()
	if anyDefault && !fileStore {
		// MI's management API authenticates against the [user_store]
		// directory when its file-based store is off: [[internal_apis.users]]
		// is not read, and writing it would change nothing that counts.
		p.manual(rule, "the management API authenticates against the [user_store] directory ([internal_apis.file_user_store] enable = false): "+
			"[[internal_apis.users]] is not used, so it is left alone; make sure no directory user the management API accepts has a default password")
		anyDefault = false
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
			// user.is_admin is written as the defaults have it: an entry
			// without it is not an admin (the file-based store reads a
			// missing isAdmin as false).
			admins := p.defaultAdmins()
			for i, u := range users {
				n := u.Username.Value
				if p.opt.AdminUser != "" && n == sa.Username.Value {
					n = name
				}
				pass := tomledit.Value(r)
				if !u.Password.KnownDefault {
					v, _ := p.raw(u.Password.Key)
					pass = v
				}
				kvs := []tomledit.KV{{Key: "user.name", Value: n}, {Key: "user.password", Value: pass}}
				if a, ok := admins[i]; ok {
					kvs = append(kvs, tomledit.KV{Key: "user.is_admin", Value: a})
				}
				p.doc.AppendArrayElement("internal_apis.users", kvs, rule)
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
	var todo []string
	directory := strings.Contains(p.userStoreType(), "ldap") || strings.Contains(p.userStoreType(), "active_directory")
	switch {
	case !sa.Password.KnownDefault || directory:
		// The directory to-do below says where the password counts.
	case p.prod.Profile == "wso2-mi":
		todo = append(todo, "[super_admin] only creates the account on a first start: on a deployment that already ran, change its password in the user store as well")
	default:
		todo = append(todo, "[super_admin] only creates the account on a first start: on a deployment that already ran, change the password in the Console or with the SCIM2 /Users API as well")
	}
	if st := p.userStoreType(); directory {
		if strings.Contains(st, "read_only") {
			todo = append(todo, "the user store is a read-only directory: "+who+" logs in with the directory's password (the one in deployment.toml is not used there): make sure it is not a default")
		} else {
			todo = append(todo, "the user store is a directory: on a deployment that already ran, "+who+"'s password there is the one that counts: change it in the directory as well")
		}
		if anyDefault {
			todo = append(todo, "the management API (CLI, dashboard) keeps authenticating its users from [[internal_apis.users]], not from the directory ([internal_apis.file_user_store] is enabled): log in there as "+who+" with the new password")
		}
	}
	for _, d := range done {
		p.fixed(rule, d, todo...)
	}
}

// fileUserStore reports whether MI's management API reads its users from
// [[internal_apis.users]] ([internal_apis.file_user_store] enable, true by
// default; products without the key have no such store and are true too).
func (p *planner) fileUserStore() bool {
	v, ok := p.raw("internal_apis.file_user_store.enable")
	return !ok || !strings.EqualFold(strings.TrimSpace(v), "false")
}

// defaultAdmins is user.is_admin of each [[internal_apis.users]] entry of
// the configuration (the shipped defaults when deployment.toml writes
// none), by index.
func (p *planner) defaultAdmins() map[int]bool {
	out := map[int]bool{}
	e, ok := p.eff.Config.Entry("internal_apis.users")
	if !ok {
		return out
	}
	list, _ := e.Value.([]any)
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		switch v := m["user.is_admin"].(type) {
		case bool:
			out[i] = v
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
				out[i] = b
			}
		}
	}
	return out
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
