package wso2

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
)

// product is everything the fact builders share about one installation.
type product struct {
	h       *home
	det     detection
	cfg     *tomlcfg.Config
	toml    string // deployment.toml path
	defFile string // default.json path used ("" when none)
	// defaults is false when no default.json could be read: values the
	// user did not write are then unknown rather than "the default".
	defaults bool
	// incomplete: the product's shipped, merged default.json is not here
	// (a source reconstruction, a bare deployment.toml).
	incomplete bool
	notes      []string
	xmlCache   map[string]*xmlconf.Node
	// certs holds certificate facts across the Collector's scans.
	certs *certCache
	// shipped are the plain string values of the shipped default.json, by
	// key: a secret equal to its shipped value is a public default.
	shipped map[string]string
	// secondary are the secondary user store files, read once.
	secondary     []secondaryStore
	secondaryRead bool
	// props are the start script's -D system properties (for $sys{}),
	// read once; propsFile is the script they came from.
	props     map[string]scriptProp
	propsFile string
}

// loadConfig reads deployment.toml and the shipped default, infer and
// key-mapping files. Only an unreadable or malformed deployment.toml is an
// error; a missing default.json leaves the defaults unknown.
func loadConfig(h *home, det detection) (*product, error) {
	p := &product{h: h, det: det, toml: det.layout.path("deployment.toml")}
	b, err := h.read(p.toml)
	if err != nil {
		return nil, err
	}
	if _, bom := tomlcfg.StripBOM(b); bom {
		p.notes = append(p.notes, p.toml+" starts with a UTF-8 byte-order mark; it was skipped")
	}
	user, err := tomlcfg.ParseTOML(b, p.toml)
	if err != nil {
		return nil, err
	}
	in := tomlcfg.Inputs{User: user}
	switch {
	case h.exists(resources + "/default.json"):
		p.defFile = resources + "/default.json"
		b, err := h.read(p.defFile)
		if err == nil {
			in.Defaults, err = tomlcfg.ParseDefaults(b, p.defFile)
		}
		if err != nil {
			p.notes = append(p.notes, "product defaults unknown: "+err.Error())
		} else {
			p.defaults = true
		}
	default:
		// A source reconstruction keeps the build's merge inputs: the
		// product's default.json wins over the kernel's (as the build does).
		p.mergeBuildInputs(&in)
	}
	if f := p.resource("infer.json"); f != "" {
		b, err := h.read(f)
		var r tomlcfg.InferRules
		if err == nil {
			r, err = tomlcfg.ParseInfer(b, f)
		}
		if err == nil {
			in.Infer = r
		} else {
			p.notes = append(p.notes, err.Error())
		}
	}
	if f := p.resource("key-mappings.json"); f != "" {
		b, err := h.read(f)
		var m tomlcfg.KeyMappings
		if err == nil {
			m, err = tomlcfg.ParseKeyMappings(b, f)
		}
		if err == nil {
			in.Mappings = m
		} else {
			p.notes = append(p.notes, err.Error())
		}
	}
	if !p.defaults && len(in.Defaults) == 0 {
		p.notes = append(p.notes, "no "+resources+"/default.json: values not written in deployment.toml are read from the rendered files where they exist")
	}
	// Without the shipped (merged) default.json, part of the product's
	// defaults is not in the files: documented ones stand in for them.
	p.incomplete = p.defFile != resources+"/default.json"
	if p.incomplete {
		in.Documented = documentedEntries(det.profile)
	}
	p.cfg = tomlcfg.Build(in)
	p.shipped = map[string]string{}
	for _, e := range in.Defaults {
		if v, ok := e.Value.(string); ok && isSecretKey(e.Key) && !strings.Contains(v, "{") {
			p.shipped[e.Key] = v
		}
	}
	return p, nil
}

func (p *product) mergeBuildInputs(in *tomlcfg.Inputs) {
	dirs := p.h.list("_build-inputs")
	var kernel, prod []tomlcfg.Entry
	var kFile, pFile string
	for _, d := range dirs {
		f := join("_build-inputs", d, resources, "default.json")
		b, err := p.h.read(f)
		if err != nil {
			continue
		}
		es, err := tomlcfg.ParseDefaults(b, f)
		if err != nil {
			p.notes = append(p.notes, err.Error())
			continue
		}
		if strings.HasPrefix(d, "carbon-kernel") {
			kernel, kFile = es, f
		} else {
			prod, pFile = es, f
		}
	}
	if kernel == nil && prod == nil {
		return
	}
	seen := map[string]bool{}
	for _, e := range prod {
		seen[e.Key] = true
	}
	merged := append([]tomlcfg.Entry{}, prod...)
	for _, e := range kernel {
		if !seen[e.Key] {
			merged = append(merged, e)
		}
	}
	in.Defaults = merged
	p.defaults = true
	p.defFile = strings.TrimSpace(pFile + " + " + kFile)
	p.notes = append(p.notes, "defaults merged from the build inputs ("+p.defFile+"): a source reconstruction, not a shipped default.json")
}

// resource finds a shipped config-mapper file: the pack's own, or, for a
// source reconstruction, the product's build input, then the kernel's.
func (p *product) resource(name string) string {
	if f := resources + "/" + name; p.h.exists(f) {
		return f
	}
	dirs := p.h.list("_build-inputs")
	for _, kernel := range []bool{false, true} {
		for _, d := range dirs {
			if strings.HasPrefix(d, "carbon-kernel") != kernel {
				continue
			}
			if f := join("_build-inputs", d, resources, name); p.h.exists(f) {
				return f
			}
		}
	}
	return ""
}

// origin turns an entry into a fact origin.
func (p *product) origin(e tomlcfg.Entry) facts.Origin {
	o := facts.Origin{File: e.File, Line: e.Line, Key: e.Key}
	switch e.Layer {
	case tomlcfg.Documented:
		o = facts.Origin{Key: e.Key, Note: "documented product default, from " + e.From + "; the files at hand lack the product's complete defaults"}
	case tomlcfg.Default:
		o.Note = "product default (" + baseName(e.File) + ")"
	case tomlcfg.Inferred:
		o.Note = e.From
	case tomlcfg.User:
		if e.From != "" {
			o.Note = "written as " + e.From
		}
	}
	return o
}

func baseName(f string) string {
	if i := strings.LastIndexByte(f, '/'); i >= 0 {
		return f[i+1:]
	}
	return f
}

// setting is the effective value of key, resolved ($ref and the system
// properties the product defines), with its origin.
func (p *product) setting(key string) facts.Setting {
	v, ok := p.cfg.Lookup(key)
	if !ok {
		return facts.Setting{Key: key}
	}
	val := p.expand(v.Text())
	o := p.origin(v.Source)
	if v.Source.Key != key {
		o.Note = strings.TrimSpace(o.Note + " via $ref{" + v.Source.Key + "} of " + key)
	}
	unresolved := p.unresolved(val)
	if isSecretKey(key) && val != "" {
		val = facts.Redacted
	}
	return facts.Setting{Key: key, Value: val, Set: true, Origin: o, Unresolved: unresolved}
}

// raw is setting without redaction, for the collector's own use (never
// put into facts for secret keys).
func (p *product) raw(key string) (string, bool) {
	v, ok := p.cfg.Lookup(key)
	if !ok {
		return "", false
	}
	return p.expand(v.Text()), true
}

func (p *product) boolean(key string) (bool, bool) {
	s, ok := p.raw(key)
	if !ok {
		return false, false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return b, err == nil
}

func (p *product) integer(key string) (int, bool) {
	s, ok := p.raw(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

var sysProp = regexp.MustCompile(`\$\{([A-Za-z0-9_.\-]+)\}`)

// expand replaces the Java system properties the product sets itself
// (${carbon.host}, ${carbon.management.port}, ...) with their values from
// the configuration, and $sys{prop} with the start script's -Dprop value;
// others stay as written (unresolved says which).
func (p *product) expand(s string) string {
	s = p.resolveSys(s)
	if !strings.Contains(s, "${") {
		return s
	}
	for i := 0; i < 4 && strings.Contains(s, "${"); i++ {
		s = sysProp.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := p.sysProperty(name); ok {
				return v
			}
			return m
		})
	}
	return s
}

func (p *product) sysProperty(name string) (string, bool) {
	off := p.offset()
	port := func(base int) string { return strconv.Itoa(base + off) }
	get := func(key string) (string, bool) {
		v, ok := p.cfg.Lookup(key)
		if !ok {
			return "", false
		}
		return v.Text(), true
	}
	switch name {
	case "carbon.host":
		return get("server.hostname")
	case "carbon.protocol":
		return "https", true
	case "carbon.management.port", "mgt.transport.https.port":
		return port(p.httpsBase()), true
	case "mgt.transport.http.port":
		return port(9763), true
	case "https.nio.port":
		return port(8243), true
	case "http.nio.port":
		return port(8280), true
	case "admin.username":
		return get("super_admin.username")
	case "admin.password":
		return get("super_admin.password")
	case "carbon.home":
		return "<CARBON_HOME>", true
	}
	return "", false
}

func (p *product) httpsBase() int {
	if n, ok := p.intRaw("transport.https.properties.port"); ok {
		return n
	}
	return 9443
}

func (p *product) intRaw(key string) (int, bool) {
	v, ok := p.cfg.Lookup(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Text()))
	return n, err == nil
}

// defaultOffset is the port offset a product ships with.
func (p *product) defaultOffset() int {
	if p.det.profile == ProfileMI {
		return 10
	}
	return 0
}

func (p *product) offset() int {
	if n, ok := p.intRaw("server.offset"); ok {
		return n
	}
	return p.defaultOffset()
}

func (p *product) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}
