package wso2

import (
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
)

// maxSecondaryStores bounds how many store files one scan reads.
const maxSecondaryStores = 256

// storeKind describes a user store manager class: its type name (as
// [user_store] type names it, products.yaml user_store_types), whether it
// talks to a directory server, and whether it can only read.
func (p *product) storeKind(class string) (typ string, directory, readOnlyClass bool) {
	short := class
	if i := strings.LastIndexByte(short, '.'); i >= 0 {
		short = short[i+1:]
	}
	typ = p.kb.UserStoreTypes[short]
	if typ == "" {
		typ = short
	}
	lc := strings.ToLower(class + " " + typ)
	directory = strings.Contains(lc, "ldap") || strings.Contains(lc, "activedirectory") || strings.Contains(lc, "active_directory")
	readOnlyClass = strings.Contains(lc, "readonly") || strings.Contains(lc, "read_only")
	return typ, directory, readOnlyClass
}

// secondaryStore is one secondary user store file: the store, and the
// database a JDBC store connects to itself (url/userName/password
// properties rather than a shared datasource).
type secondaryStore struct {
	store facts.UserStore
	db    *facts.Datasource
	// secrets are the store's passwords (the directory bind password, the
	// JDBC password).
	secrets []facts.Secret
}

// secondaryStores reads every secondary user store once per scan: one
// <UserStoreManager> XML file per domain (the file is the domain name with
// dots written as underscores: EXAMPLE_COM.xml) in the product's
// secondary_userstores directory (none for the Micro Integrator, which
// keeps its user store in deployment.toml only). A file that cannot be
// read or parsed is reported as a store with an error, so the rules that
// judge user stores say they could not tell.
func (p *product) secondaryStores() []secondaryStore {
	if p.secondaryRead {
		return p.secondary
	}
	p.secondaryRead = true
	secondaryStoresDir := p.kb.SecondaryUserStores
	if secondaryStoresDir == "" {
		return nil
	}
	var names []string
	for _, n := range p.h.list(secondaryStoresDir) {
		if strings.HasSuffix(strings.ToLower(n), ".xml") {
			names = append(names, n)
		}
	}
	if len(names) > maxSecondaryStores {
		p.notes = append(p.notes, secondaryStoresDir+": more than "+itoa(maxSecondaryStores)+" user store files; the first "+itoa(maxSecondaryStores)+" were read")
		names = names[:maxSecondaryStores]
	}
	for _, n := range names {
		p.secondary = append(p.secondary, p.readSecondaryStore(join(secondaryStoresDir, n)))
	}
	return p.secondary
}

// storeProperty is one <Property name="..."> of a user store file.
type storeProperty struct {
	value string
	line  int
	attrs map[string]string
}

func (p *product) readSecondaryStore(f string) secondaryStore {
	domain := strings.ReplaceAll(strings.TrimSuffix(baseName(f), ".xml"), "_", ".")
	u := facts.UserStore{Name: domain, Origin: facts.Origin{File: f}}
	b, err := p.h.read(f)
	if err != nil {
		u.Error = err.Error()
		return secondaryStore{store: u}
	}
	doc, err := xmlconf.Parse(b)
	if err != nil {
		u.Error = f + ": " + err.Error()
		return secondaryStore{store: u}
	}
	root := doc.First("UserStoreManager")
	if root == nil {
		u.Error = f + ": no <UserStoreManager> element"
		return secondaryStore{store: u}
	}
	u.Origin.Line = root.Line
	u.Class = strings.TrimSpace(root.Attrs["class"])
	props := map[string]storeProperty{}
	for _, prop := range root.All("Property") {
		name := strings.TrimSpace(prop.Attrs["name"])
		if name != "" {
			props[name] = storeProperty{value: strings.TrimSpace(prop.Text), line: prop.Line, attrs: prop.Attrs}
		}
	}
	if d := props["DomainName"].value; d != "" {
		u.Name = d
	}
	var directory, readOnlyClass bool
	u.Type, directory, readOnlyClass = p.storeKind(u.Class)
	if u.Class == "" {
		u.Error = f + ": <UserStoreManager> names no class"
	}
	u.External = directory
	u.Disabled = strings.EqualFold(props["Disabled"].value, "true")
	u.ReadOnly = readOnlyClass || strings.EqualFold(props["ReadOnly"].value, "true")
	s := secondaryStore{}
	if directory {
		u.URL = props["ConnectionURL"].value
		u.ConnectionName = props["ConnectionName"].value
		start := strings.EqualFold(props["StartTLSEnabled"].value, "true")
		u.TLS = strings.HasPrefix(strings.ToLower(u.URL), "ldaps://") || start
		u.Password = p.storeSecret(f, "ConnectionPassword", props)
	} else {
		u.Password = facts.Secret{Key: baseName(f) + " ConnectionPassword", Kind: "password", Form: "absent"}
		if url := props["url"].value; url != "" {
			d := facts.Datasource{Name: "user store " + u.Name, URL: strings.ReplaceAll(url, "&amp;", "&"), Username: props["userName"].value}
			d.Password = p.storeSecret(f, "password", props)
			d.Driver, d.Embedded = jdbcDriver(d.URL)
			d.TLS, d.TLSParam = jdbcTLS(d.Driver, d.URL)
			d.URL = redactURL(d.URL)
			d.Origin = facts.Origin{File: f, Line: props["url"].line, Key: "url"}
			s.db = &d
			if d.Password.Form != "absent" && d.Password.Form != "empty" {
				s.secrets = append(s.secrets, d.Password)
			}
		}
	}
	if u.Password.Form != "absent" && u.Password.Form != "empty" {
		s.secrets = append(s.secrets, u.Password)
	}
	s.store = u
	return s
}

// storeSecret describes a password property of a user store file: cipher
// text the product wrote (encrypted="true"), a Secure Vault alias
// (svns:secretAlias), or a value as written.
func (p *product) storeSecret(f, name string, props map[string]storeProperty) facts.Secret {
	s := facts.Secret{Key: baseName(f) + " " + name, Kind: "password"}
	prop, ok := props[name]
	if !ok {
		s.Form = "absent"
		return s
	}
	s.Origin = facts.Origin{File: f, Line: prop.line, Key: name}
	switch {
	case prop.attrs["secretAlias"] != "":
		s.Form = "secret_ref"
		s.Alias = prop.attrs["secretAlias"]
		s.Resolved = p.cfg.Has("secrets." + s.Alias)
	case strings.EqualFold(prop.attrs["encrypted"], "true") && prop.value != "":
		s.Form = "encrypted"
	default:
		p.classify(&s, prop.value, 0)
	}
	return s
}

// secondaryUserStores lists the secondary stores, sorted by name.
func (p *product) secondaryUserStores() []facts.UserStore {
	var out []facts.UserStore
	for _, s := range p.secondaryStores() {
		out = append(out, s.store)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// secondaryDatasources are the databases JDBC secondary stores connect to.
func (p *product) secondaryDatasources() []facts.Datasource {
	var out []facts.Datasource
	for _, s := range p.secondaryStores() {
		if s.db != nil {
			out = append(out, *s.db)
		}
	}
	return out
}

// secondarySecrets are the passwords in secondary store files.
func (p *product) secondarySecrets() []facts.Secret {
	var out []facts.Secret
	for _, s := range p.secondaryStores() {
		out = append(out, s.secrets...)
	}
	return out
}
