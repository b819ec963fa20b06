package wso2

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-sec/rampart/internal/facts"
)

// userStores reports the primary user store and the secondary ones.
func (p *product) userStores() []facts.UserStore {
	var out []facts.UserStore
	if u, ok := p.primaryUserStore(); ok {
		out = append(out, u)
	}
	return append(out, p.secondaryUserStores()...)
}

// primaryUserStore is [user_store] of deployment.toml over the defaults.
func (p *product) primaryUserStore() (facts.UserStore, bool) {
	typ, ok := p.raw("user_store.type")
	if !ok {
		return facts.UserStore{}, false
	}
	u := facts.UserStore{Name: "primary", Type: typ}
	u.Class, _ = p.raw("user_store.class")
	urlKey := firstKey(p, "user_store.properties.ConnectionURL", "user_store.connection_url")
	u.URL, _ = p.raw(urlKey)
	u.ConnectionName, _ = p.raw(firstKey(p, "user_store.properties.ConnectionName", "user_store.connection_name"))
	u.Password = p.secret(firstKey(p, "user_store.properties.ConnectionPassword", "user_store.connection_password"), "password")
	lt := strings.ToLower(typ + " " + u.Class)
	u.External = strings.Contains(lt, "ldap") || strings.Contains(lt, "active_directory") || strings.Contains(lt, "activedirectory")
	// IS 5.x's embedded LDAP runs inside the product.
	if strings.Contains(u.URL, "EmbeddedLDAP") {
		u.External = false
		u.Name = "primary (embedded LDAP)"
	}
	// A read-only manager class never writes, whatever ReadOnly says; a
	// read-write one writes unless ReadOnly is true.
	_, _, readOnlyClass := p.storeKind(u.Class)
	readOnlyClass = readOnlyClass || strings.Contains(typ, "read_only")
	b, _ := p.boolean(firstKey(p, "user_store.properties.ReadOnly", "user_store.read_only"))
	u.ReadOnly = readOnlyClass || b
	start, _ := p.boolean("user_store.properties.StartTLSEnabled")
	u.TLS = strings.HasPrefix(strings.ToLower(u.URL), "ldaps://") || start
	if v, ok := p.cfg.Lookup("user_store.type"); ok {
		u.Origin = p.origin(v.Source)
	}
	return u, true
}

func firstKey(p *product, keys ...string) string {
	for _, k := range keys {
		if p.cfg.Has(k) {
			return k
		}
	}
	return keys[0]
}

// datasources lists the configured databases ([database.*], [datasource.*],
// [[datasource]]).
func (p *product) datasources() []facts.Datasource {
	var out []facts.Datasource
	// [database.<name>] (and API-M's two-level [database.mb.store_db]),
	// [datasource.<name>] and [[datasource]] URLs.
	urlKey := p.kb.DatasourceURLKey()
	for _, k := range p.cfg.Keys() {
		m := urlKey.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		base := m[1]
		raw, _ := p.raw(k)
		d := facts.Datasource{Name: dsName(p, base), URL: strings.ReplaceAll(raw, "&amp;", "&")}
		d.Username, _ = p.raw(base + ".username")
		d.Password = p.secret(base+".password", "password")
		d.Driver, d.Embedded = jdbcDriver(d.URL)
		d.TLS, d.TLSParam = jdbcTLS(d.Driver, d.URL)
		v, _ := p.cfg.Lookup(k)
		d.Origin = p.origin(v.Source)
		d.URL = redactURL(d.URL)
		out = append(out, d)
	}
	out = append(out, p.secondaryDatasources()...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func dsName(p *product, base string) string {
	if id, ok := p.raw(base + ".id"); ok && id != "" {
		return id
	}
	if n, ok := p.raw(base + ".name"); ok && n != "" && strings.HasPrefix(base, "datasource") {
		return n
	}
	return strings.TrimPrefix(strings.TrimPrefix(base, "database."), "datasource.")
}

func jdbcDriver(u string) (string, bool) {
	l := strings.ToLower(u)
	rest, ok := strings.CutPrefix(l, "jdbc:")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, ":")
	switch name {
	case "h2", "derby", "hsqldb":
		return name, !strings.Contains(rest, "tcp://") && !strings.Contains(rest, "ssl://")
	case "microsoft", "sqlserver", "jtds":
		return "sqlserver", false
	}
	return name, false
}

// jdbcTLS reads whether a JDBC URL asks for an encrypted connection.
func jdbcTLS(driver, u string) (bool, string) {
	params := map[string]string{}
	l := u
	if i := strings.IndexAny(l, "?;"); i >= 0 {
		for _, kv := range strings.FieldsFunc(l[i+1:], func(r rune) bool { return r == '&' || r == ';' }) {
			k, v, _ := strings.Cut(kv, "=")
			params[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	get := func(k string) (string, bool) { v, ok := params[strings.ToLower(k)]; return v, ok }
	ll := strings.ToLower(u)
	switch driver {
	case "mysql", "mariadb":
		if v, ok := get("sslMode"); ok {
			on := !strings.EqualFold(v, "DISABLED") && !strings.EqualFold(v, "PREFERRED")
			return on, "sslMode=" + v
		}
		if v, ok := get("useSSL"); ok {
			return strings.EqualFold(v, "true"), "useSSL=" + v
		}
		if v, ok := get("requireSSL"); ok {
			return strings.EqualFold(v, "true"), "requireSSL=" + v
		}
		return false, "no useSSL/sslMode parameter"
	case "postgresql":
		if v, ok := get("sslmode"); ok {
			on := strings.EqualFold(v, "require") || strings.EqualFold(v, "verify-ca") || strings.EqualFold(v, "verify-full")
			return on, "sslmode=" + v
		}
		if v, ok := get("ssl"); ok {
			return strings.EqualFold(v, "true"), "ssl=" + v
		}
		return false, "no sslmode parameter"
	case "sqlserver":
		if v, ok := get("encrypt"); ok {
			return strings.EqualFold(v, "true") || strings.EqualFold(v, "strict"), "encrypt=" + v
		}
		return false, "no encrypt parameter"
	case "oracle":
		if strings.Contains(ll, "tcps") {
			return true, "TCPS"
		}
		return false, "no TCPS protocol"
	case "db2":
		if v, ok := get("sslConnection"); ok {
			return strings.EqualFold(v, "true"), "sslConnection=" + v
		}
		return false, "no sslConnection parameter"
	}
	return false, ""
}

// urlPasswordRE matches the credentials a JDBC URL may carry; compiled on
// first use.
var urlPasswordRE struct {
	once sync.Once
	re   *regexp.Regexp
}

func urlPassword() *regexp.Regexp {
	urlPasswordRE.once.Do(func() { urlPasswordRE.re = regexp.MustCompile(`(?i)(password|pwd)=[^;&]*`) })
	return urlPasswordRE.re
}

// redactURL drops credentials a JDBC URL may carry (password=...).
func redactURL(u string) string {
	u = urlPassword().ReplaceAllString(u, "${1}="+facts.Redacted)
	if pu, err := url.Parse(strings.TrimPrefix(u, "jdbc:")); err == nil && pu.User != nil {
		if _, has := pu.User.Password(); has {
			u = strings.Replace(u, pu.User.String()+"@", pu.User.Username()+":"+facts.Redacted+"@", 1)
		}
	}
	return u
}

// adminRoles are the roles the files make administrators: [super_admin]
// admin_role (rendered as <AdminRole> of user-mgt.xml), which holds every
// permission, the Management Console login among them. Other grants of
// /permission/admin/login live in the user store database, not in files.
func (p *product) adminRoles() []facts.Setting {
	if s := p.setting("super_admin.admin_role"); s.Set && strings.TrimSpace(s.Value) != "" {
		return []facts.Setting{s}
	}
	f := p.det.path(p.kb.Files.UserMgt)
	if doc := p.xml(f); doc != nil {
		if n := doc.First("AdminRole"); n != nil && n.Text != "" {
			return []facts.Setting{{Key: "super_admin.admin_role", Value: n.Text, Set: true,
				Origin: facts.Origin{File: f, Line: n.Line, Note: "rendered file (<AdminRole>)"}}}
		}
	}
	return nil
}
