// Package wso2kb is rampart's knowledge of WSO2 products as data: where
// each product and version keeps its files, its keystores, listeners, ports
// and templates, the secrets and certificates WSO2 ships in public, the
// product defaults it documents, and the patterns that recognise the keys
// that matter. The knowledge lives in products.yaml (embedded, documented
// there); this package parses it on first use, resolves a product and
// version into a Layout, and compiles its patterns when first asked. No
// work is done at start-up.
package wso2kb

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed products.yaml
var productsYAML []byte

// embedded is the catalog of the embedded products.yaml, parsed once, on
// first use (nothing is done at start-up).
var embedded struct {
	once sync.Once
	c    *Catalog
	err  error
}

// Default returns the catalog of the embedded products.yaml. The data is
// part of the build and its tests parse and resolve all of it, so an error
// here is a defect of the build: it panics rather than let a scan go on
// without knowing the products (a collector's panic is reported as its
// error, never as a verdict).
//
// It skips the strict decoding Parse does (a misspelt key is an error): the
// package's tests parse and resolve the embedded file strictly, and
// skipping it saves a third of the first use.
func Default() *Catalog {
	embedded.once.Do(func() { embedded.c, embedded.err = parse(productsYAML, false) })
	if embedded.err != nil {
		panic("wso2kb: the embedded products.yaml is invalid: " + embedded.err.Error())
	}
	return embedded.c
}

// Catalog is a parsed products.yaml. It is safe for concurrent use.
type Catalog struct {
	Detection Detection
	common    *yaml.Node
	products  []*product
	subject   Subject

	// strict decodes refusing unknown keys (Parse); the embedded catalog,
	// checked so by the tests, is decoded without it.
	strict bool

	mu      sync.Mutex
	layouts map[string]*Layout
	res     map[string]*regexp.Regexp
	certs   map[string]bool
}

// Detection is how an installation tells which product and version it is.
type Detection struct {
	VersionFile   string `yaml:"version_file"`
	VersionText   string `yaml:"version_text"`
	CarbonName    string `yaml:"carbon_name"`
	CarbonVersion string `yaml:"carbon_version"`
	UserAgentKey  string `yaml:"user_agent_key"`
	UserAgent     string `yaml:"user_agent"`
	DirName       string `yaml:"dir_name"`
	Fallback      string `yaml:"fallback"`
}

type product struct {
	profile  string
	base     *yaml.Node // common ⊕ the product, without its versions
	head     productHead
	versions []*Described // oldest first
}

// productHead is what detection needs of a product before its version is known.
type productHead struct {
	Name       string   `yaml:"name"`
	Names      []string `yaml:"names"`
	Conf       string   `yaml:"conf"`
	TOMLTables []string `yaml:"toml_tables"`
}

// Described is one described version of a product.
type Described struct {
	Key          string        `yaml:"-"`
	Line         Version       `yaml:"-"`
	Kernel       string        `yaml:"kernel"`
	Fixture      string        `yaml:"fixture"`
	Sources      []string      `yaml:"sources"`
	Certificates []Certificate `yaml:"certificates"`
	Changes      yaml.Node     `yaml:"changes"`
}

// Certificate is a certificate in a product's default keystores.
type Certificate struct {
	SHA256 string `yaml:"sha256"`
	Note   string `yaml:"note"`
}

// Parse reads a products.yaml, refusing keys it has no use for.
func Parse(b []byte) (*Catalog, error) { return parse(b, true) }

func parse(b []byte, strict bool) (*Catalog, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("products.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("products.yaml: not a mapping")
	}
	root := doc.Content[0]
	if err := checkPlain(root); err != nil {
		return nil, fmt.Errorf("products.yaml: %w", err)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch k := root.Content[i].Value; k {
		case "schema", "detection", "common", "products":
		default:
			return nil, fmt.Errorf("products.yaml line %d: unknown top-level key %q", root.Content[i].Line, k)
		}
	}
	if s := value(root, "schema"); s == nil || s.Value != "1" {
		return nil, fmt.Errorf("products.yaml: schema 1 expected")
	}
	c := &Catalog{layouts: map[string]*Layout{}, res: map[string]*regexp.Regexp{}, strict: strict}
	det := value(root, "detection")
	if det == nil {
		return nil, fmt.Errorf("products.yaml: no detection")
	}
	if err := decode(det, &c.Detection, strict); err != nil {
		return nil, fmt.Errorf("products.yaml detection: %w", err)
	}
	c.common = value(root, "common")
	if c.common == nil || c.common.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("products.yaml: no common mapping")
	}
	sub := value(c.common, "default_certificate_subject")
	if sub == nil {
		return nil, fmt.Errorf("products.yaml: no common default_certificate_subject")
	}
	if err := decode(sub, &c.subject, strict); err != nil {
		return nil, fmt.Errorf("products.yaml default_certificate_subject: %w", err)
	}
	prods := value(root, "products")
	if prods == nil || prods.Kind != yaml.MappingNode || len(prods.Content) == 0 {
		return nil, fmt.Errorf("products.yaml: no products")
	}
	for i := 0; i+1 < len(prods.Content); i += 2 {
		p, err := parseProduct(c.common, prods.Content[i].Value, prods.Content[i+1], strict)
		if err != nil {
			return nil, fmt.Errorf("products.yaml %s: %w", prods.Content[i].Value, err)
		}
		c.products = append(c.products, p)
	}
	if _, ok := c.product(c.Detection.Fallback); !ok {
		return nil, fmt.Errorf("products.yaml: detection fallback %q is not a product", c.Detection.Fallback)
	}
	return c, nil
}

func parseProduct(common *yaml.Node, profile string, n *yaml.Node, strict bool) (*product, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: not a mapping", n.Line)
	}
	p := &product{profile: profile, base: overlay(common, without(n, "versions"))}
	if err := p.base.Decode(&p.head); err != nil {
		return nil, err
	}
	if p.head.Name == "" || p.head.Conf == "" || len(p.head.Names) == 0 {
		return nil, fmt.Errorf("line %d: name, names and conf are required", n.Line)
	}
	if vs := value(n, "versions"); vs != nil {
		if vs.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: versions is not a mapping", vs.Line)
		}
		for i := 0; i+1 < len(vs.Content); i += 2 {
			k := vs.Content[i]
			if k.Tag != "!!str" || k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
				return nil, fmt.Errorf("line %d: version %s must be quoted (unquoted, 7.10 reads as 7.1)", k.Line, k.Value)
			}
			line, ok := ParseVersion(k.Value)
			if !ok || line.String() != k.Value {
				return nil, fmt.Errorf("line %d: version %q is not major.minor", k.Line, k.Value)
			}
			d := &Described{Key: k.Value, Line: line}
			if err := decode(vs.Content[i+1], d, strict); err != nil {
				return nil, fmt.Errorf("version %s: %w", k.Value, err)
			}
			if d.Fixture == "" {
				return nil, fmt.Errorf("version %s: every described version names its fixture", k.Value)
			}
			p.versions = append(p.versions, d)
		}
	}
	if len(p.versions) == 0 {
		return nil, fmt.Errorf("no described version")
	}
	sort.Slice(p.versions, func(i, j int) bool { return p.versions[i].Line.Less(p.versions[j].Line) })
	for i := 1; i < len(p.versions); i++ {
		if p.versions[i].Line == p.versions[i-1].Line {
			return nil, fmt.Errorf("version %s is described twice", p.versions[i].Key)
		}
	}
	return p, nil
}

func (c *Catalog) product(profile string) (*product, bool) {
	for _, p := range c.products {
		if p.profile == profile {
			return p, true
		}
	}
	return nil, false
}

// Profiles lists the products' profiles in the file's order.
func (c *Catalog) Profiles() []string {
	out := make([]string, 0, len(c.products))
	for _, p := range c.products {
		out = append(out, p.profile)
	}
	return out
}

// Name is a product's display name ("" for an unknown profile).
func (c *Catalog) Name(profile string) string {
	if p, ok := c.product(profile); ok {
		return p.head.Name
	}
	return ""
}

// ProfileNamed returns the profile a file calls name ("API Manager",
// "am", "WSO2 Micro Integrator"), "" when no product is called so.
func (c *Catalog) ProfileNamed(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "wso2 ")
	for _, p := range c.products {
		if slices.Contains(p.head.Names, n) {
			return p.profile
		}
	}
	return ""
}

// ConfDirs lists the configuration directories products use, in the
// file's order, each with the profile that alone uses it ("" when several
// do).
func (c *Catalog) ConfDirs() []ConfDir {
	var out []ConfDir
	for _, p := range c.products {
		i := slices.IndexFunc(out, func(d ConfDir) bool { return d.Dir == p.head.Conf })
		if i < 0 {
			out = append(out, ConfDir{Dir: p.head.Conf, Profile: p.profile})
			continue
		}
		out[i].Profile = ""
	}
	return out
}

// ConfDir is a configuration directory and the one product that uses it.
type ConfDir struct{ Dir, Profile string }

// ProfileByTables returns the first product whose own deployment.toml
// tables (toml_tables) toml holds, "" when none.
func (c *Catalog) ProfileByTables(toml []byte) string {
	for _, p := range c.products {
		for _, t := range p.head.TOMLTables {
			if c.regexp(`(?m)^\s*\[\[?` + regexp.QuoteMeta(t) + `\.`).Match(toml) {
				return p.profile
			}
		}
	}
	return ""
}

// Versions lists a product's described versions, oldest first.
func (c *Catalog) Versions(profile string) []*Described {
	p, ok := c.product(profile)
	if !ok {
		return nil
	}
	return append([]*Described(nil), p.versions...)
}

// Layout resolves a product at a version (as the product writes it; ""
// when unknown).
func (c *Catalog) Layout(profile, version string) (*Layout, error) {
	p, ok := c.product(profile)
	if !ok {
		return nil, fmt.Errorf("no product %q in products.yaml (known: %s)", profile, strings.Join(c.Profiles(), ", "))
	}
	line, known := ParseVersion(version)
	key := profile + "\x00"
	if known {
		key += line.String()
	}
	c.mu.Lock()
	l, ok := c.layouts[key]
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	l, err := c.resolve(p, line, known)
	if err != nil {
		return nil, fmt.Errorf("products.yaml %s %s: %w", profile, line, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.layouts[key]; ok {
		return prev, nil
	}
	c.layouts[key] = l
	return l, nil
}

func (c *Catalog) resolve(p *product, line Version, known bool) (*Layout, error) {
	n := p.base
	var described *Described
	for _, d := range p.versions {
		if known && line.Less(d.Line) {
			break
		}
		if d.Changes.Kind != 0 {
			n = overlay(n, &d.Changes)
		}
		if known && d.Line == line {
			described = d
		}
	}
	l := &Layout{}
	if err := decode(n, l, c.strict); err != nil {
		return nil, err
	}
	l.Profile, l.Line, l.Known, l.catalog = p.profile, line, known, c
	l.span = [2]Version{p.versions[0].Line, p.versions[len(p.versions)-1].Line}
	var keys []string
	for _, d := range p.versions {
		keys = append(keys, d.Key)
	}
	switch {
	case described != nil:
		l.Described = described.Key
	case !known:
		l.Note = "the version of this " + p.head.Name + " could not be read: rampart used what it knows of the newest described version (" + p.versions[len(p.versions)-1].Key + "; it describes " + strings.Join(keys, ", ") + ")"
	default:
		l.Note = p.head.Name + " " + line.String() + " is not described in rampart's product data (it describes " + strings.Join(keys, ", ") + "): what is known of the versions before it was used"
	}
	for k, d := range l.DocumentedDefaults {
		if _, err := parseRange(d.Versions); err != nil {
			return nil, fmt.Errorf("documented default %s: %w", k, err)
		}
	}
	return l, nil
}

// regexp compiles a pattern of products.yaml once, when first asked for.
// The embedded patterns are compiled by the package's tests, so a pattern
// that does not compile is a defect of the build: it panics (a collector's
// panic is reported as its error).
func (c *Catalog) regexp(pattern string) *regexp.Regexp {
	c.mu.Lock()
	defer c.mu.Unlock()
	if re, ok := c.res[pattern]; ok {
		return re
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		panic(fmt.Sprintf("wso2kb: pattern %q of products.yaml: %v", pattern, err))
	}
	c.res[pattern] = re
	return re
}

// VersionText matches bin/version.txt.
func (c *Catalog) VersionText() *regexp.Regexp { return c.regexp(c.Detection.VersionText) }

// UserAgent matches default.json's server.userAgent value.
func (c *Catalog) UserAgent() *regexp.Regexp { return c.regexp(c.Detection.UserAgent) }

// UserAgentEntry finds the server.userAgent entry in default.json's text.
func (c *Catalog) UserAgentEntry() *regexp.Regexp {
	return c.regexp(`"` + regexp.QuoteMeta(c.Detection.UserAgentKey) + `"\s*:\s*"([^"]*)"`)
}

// DirName matches an unpacked distribution's directory name.
func (c *Catalog) DirName() *regexp.Regexp { return c.regexp(c.Detection.DirName) }

// KnownCertificate reports whether sha256hex (lower-case hex of a DER
// certificate) is one WSO2 ships in a described version's default
// keystores.
func (c *Catalog) KnownCertificate(sha256hex string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.certs == nil {
		c.certs = map[string]bool{}
		for _, p := range c.products {
			for _, d := range p.versions {
				for _, ct := range d.Certificates {
					c.certs[strings.ToLower(ct.SHA256)] = true
				}
			}
		}
	}
	return c.certs[sha256hex]
}

// DefaultCertificateSubject is the subject every shipped default
// certificate carries.
func (c *Catalog) DefaultCertificateSubject() Subject { return c.subject }
