package wso2

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// product is everything the fact builders share about one installation.
type product struct {
	h   *home
	det detection
	// kb is what products.yaml says of this product and version.
	kb      *wso2kb.Layout
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
	kb := det.kb
	p := &product{h: h, det: det, kb: kb, toml: det.path(kb.Mapper.Deployment)}
	if det.kb.Note != "" {
		p.notes = append(p.notes, det.kb.Note)
	}
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
	shippedDefaults := kb.InResources(kb.Mapper.Defaults)
	switch {
	case h.exists(shippedDefaults):
		p.defFile = shippedDefaults
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
	if f := p.resource(kb.Mapper.Infer); f != "" {
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
	if f := p.resource(kb.Mapper.KeyMappings); f != "" {
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
		p.notes = append(p.notes, "no "+shippedDefaults+": values not written in deployment.toml are read from the rendered files where they exist")
	}
	// Without the shipped (merged) default.json, part of the product's
	// defaults is not in the files: documented ones stand in for them.
	p.incomplete = p.defFile != shippedDefaults
	if p.incomplete {
		var notes []string
		in.Documented, notes = documentedEntries(kb)
		p.notes = append(p.notes, notes...)
	}
	p.cfg = tomlcfg.Build(in)
	p.shipped = map[string]string{}
	for _, e := range in.Defaults {
		if v, ok := e.Value.(string); ok && p.isSecretKey(e.Key) && !strings.Contains(v, "{") {
			p.shipped[e.Key] = v
		}
	}
	return p, nil
}

func (p *product) mergeBuildInputs(in *tomlcfg.Inputs) {
	bi := p.kb.BuildInputs
	dirs := p.h.list(bi.Dir)
	var kernel, prod []tomlcfg.Entry
	var kFile, pFile string
	for _, d := range dirs {
		f := join(bi.Dir, d, p.kb.Resources, p.kb.Mapper.Defaults)
		b, err := p.h.read(f)
		if err != nil {
			continue
		}
		es, err := tomlcfg.ParseDefaults(b, f)
		if err != nil {
			p.notes = append(p.notes, err.Error())
			continue
		}
		if strings.HasPrefix(d, bi.KernelPrefix) {
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
	if f := p.kb.InResources(name); p.h.exists(f) {
		return f
	}
	bi := p.kb.BuildInputs
	dirs := p.h.list(bi.Dir)
	for _, kernel := range []bool{false, true} {
		for _, d := range dirs {
			if strings.HasPrefix(d, bi.KernelPrefix) != kernel {
				continue
			}
			if f := join(bi.Dir, d, p.kb.Resources, name); p.h.exists(f) {
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
	if p.isSecretKey(key) && val != "" {
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
		s = replaceProps(s, p.sysProperty)
	}
	return s
}

// replaceProps replaces each ${name} of s (name: letters, digits, _ . -)
// that value knows, leftmost first, as a regular expression replacement
// would.
func replaceProps(s string, value func(string) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + 2
		for j < len(s) && isPropChar(s[j]) {
			j++
		}
		if j == i+2 || j >= len(s) || s[j] != '}' {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		if v, ok := value(s[i+2 : j]); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : j+1])
		}
		s = s[j+1:]
	}
}

func isPropChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// sysProperty is what the product sets the Java system property name to
// (products.yaml system_properties).
func (p *product) sysProperty(name string) (string, bool) {
	sp, ok := p.kb.SystemProperties[name]
	if !ok {
		return "", false
	}
	switch {
	case sp.Key != "":
		v, ok := p.cfg.Lookup(sp.Key)
		if !ok {
			return "", false
		}
		return v.Text(), true
	case sp.Port != 0:
		return strconv.Itoa(p.portAt(sp.PortKey, sp.Port) + p.offset()), true
	}
	return sp.Value, true
}

// portAt is the number key holds (as written), else def.
func (p *product) portAt(key string, def int) int {
	if key != "" {
		if n, ok := p.intRaw(key); ok {
			return n
		}
	}
	return def
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
func (p *product) defaultOffset() int { return p.kb.DefaultOffset }

func (p *product) offset() int {
	if n, ok := p.intRaw(p.kb.OffsetKey); ok {
		return n
	}
	return p.defaultOffset()
}

func (p *product) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}
