package tomlcfg

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Limits on a deployment.toml: real ones are a few hundred lines.
const (
	maxArrayTableElems = 10_000
	maxNesting         = 32
)

// ParseTOML flattens a deployment.toml into dotted keys the way the WSO2
// config mapper names them: `[transport.https.properties] server = "x"`
// becomes transport.https.properties.server. A key part is named as the
// mapper's TOML library prints it (CanonicalPart): quoting does not change a
// bare-key name (`"hostname" = ...` is hostname, `[transport.https.
// "sslHostConfig".properties]` is transport.https.sslHostConfig.properties),
// other parts are quoted with single quotes (synapse_properties.'synapse.
// observers'). An array of tables ([[apim.gateway.environment]]) becomes one
// entry holding a []any of map[string]any (keys inside an element are
// dotted too), plus one entry per element key, named
// apim.gateway.environment[0].username, for lines. A duplicate key is an
// error, as it is for the product. A UTF-8 byte-order mark at the start of
// the file is skipped (Windows editors write one).
func ParseTOML(data []byte, file string) ([]Entry, error) {
	data, _ = StripBOM(data)
	p := &tomlParser{data: data, file: file, lines: lineIndex(data), seen: map[string]int{}}
	var parser unstable.Parser
	parser.Reset(data)
	for parser.NextExpression() {
		expr := parser.Expression()
		if err := p.expression(expr); err != nil {
			return nil, err
		}
	}
	if err := parser.Error(); err != nil {
		var perr *unstable.ParserError
		if errors.As(err, &perr) && len(perr.Highlight) > 0 {
			off := cap(data) - cap(perr.Highlight)
			if off >= 0 && off <= len(data) {
				return nil, fmt.Errorf("%s:%d: %s", file, p.lines.line(off), perr.Message)
			}
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p.out, nil
}

type tomlParser struct {
	data  []byte
	file  string
	lines lines
	out   []Entry
	seen  map[string]int // flat key -> line
	// current table: prefix for keys; when inArray, the key of the array
	// of tables and the element being filled.
	prefix   string
	arrKey   string
	arrElem  map[string]any
	arrIndex int
	arrSub   string // sub-table inside the element ([a.b] after [[a]])
	arrays   map[string]*[]any
}

type lines []int // offsets of line starts

func lineIndex(b []byte) lines {
	l := lines{0}
	for i, c := range b {
		if c == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

func (l lines) line(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

func (p *tomlParser) lineOf(n *unstable.Node) int {
	return p.lines.line(int(n.Raw.Offset))
}

func (p *tomlParser) expression(n *unstable.Node) error {
	switch n.Kind {
	case unstable.Table:
		parts := p.parts(n)
		name := strings.Join(parts, ".")
		// [a.b] after [[a]] fills the last element of a.
		if p.arrKey != "" && strings.HasPrefix(name, p.arrKey+".") {
			p.arrSub = strings.TrimPrefix(name, p.arrKey+".")
			return nil
		}
		p.arrKey, p.arrElem, p.arrSub = "", nil, ""
		p.prefix = name
		return nil
	case unstable.ArrayTable:
		name := strings.Join(p.parts(n), ".")
		if p.arrays == nil {
			p.arrays = map[string]*[]any{}
		}
		arr, ok := p.arrays[name]
		if !ok {
			if line, dup := p.seen[name]; dup {
				return fmt.Errorf("%s:%d: %s is already defined at line %d", p.file, p.lineOf(n.Child()), name, line)
			}
			list := []any{}
			arr = &list
			p.arrays[name] = arr
			p.seen[name] = p.lineOf(n.Child())
			p.out = append(p.out, Entry{Key: name, Value: list, File: p.file, Line: p.lineOf(n.Child()), Layer: User})
		}
		if len(*arr) >= maxArrayTableElems {
			return fmt.Errorf("%s:%d: more than %d [[%s]] tables", p.file, p.lineOf(n.Child()), maxArrayTableElems, name)
		}
		elem := map[string]any{}
		*arr = append(*arr, elem)
		p.arrKey, p.arrElem, p.arrIndex, p.arrSub = name, elem, len(*arr)-1, ""
		p.prefix = ""
		// keep the list entry current
		for i := range p.out {
			if p.out[i].Key == name && p.out[i].Layer == User {
				p.out[i].Value = *arr
			}
		}
		return nil
	case unstable.KeyValue:
		parts := p.parts(n)
		line := p.lineOf(n)
		val, err := p.value(n.Value(), 0)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", p.file, line, err)
		}
		rel := strings.Join(parts, ".")
		if p.arrElem != nil {
			if p.arrSub != "" {
				rel = p.arrSub + "." + rel
			}
			return p.put(p.arrKey+"["+strconv.Itoa(p.arrIndex)+"]."+rel, val, line, func(k string, v any) { p.arrElem[k] = v }, rel)
		}
		key := rel
		if p.prefix != "" {
			key = p.prefix + "." + rel
		}
		return p.put(key, val, line, nil, "")
	}
	return nil
}

// put stores a value, flattening inline tables into dotted keys.
func (p *tomlParser) put(key string, val any, line int, elem func(string, any), rel string) error {
	if m, ok := val.(inlineTable); ok {
		for _, kv := range m {
			sub := rel
			if elem != nil {
				sub = rel + "." + kv.key
			}
			if err := p.put(key+"."+kv.key, kv.val, line, elem, sub); err != nil {
				return err
			}
		}
		return nil
	}
	if prev, dup := p.seen[key]; dup {
		return fmt.Errorf("%s:%d: duplicate key %s (first set at line %d)", p.file, line, key, prev)
	}
	p.seen[key] = line
	if elem != nil {
		elem(rel, plain(val))
	}
	p.out = append(p.out, Entry{Key: key, Value: plain(val), File: p.file, Line: line, Layer: User})
	return nil
}

func (p *tomlParser) parts(n *unstable.Node) []string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, CanonicalPart(string(it.Node().Data)))
	}
	return parts
}

// simpleKey matches a bare TOML key; compiled on first use.
var simpleKeyRE struct {
	once sync.Once
	re   *regexp.Regexp
}

func simpleKey() *regexp.Regexp {
	simpleKeyRE.once.Do(func() { simpleKeyRE.re = regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })
	return simpleKeyRE.re
}

// CanonicalPart names one key part the way the product's config mapper
// sees it. The mapper (org.wso2.config.mapper.TomlParser) takes the keys
// of its TOML library's dottedKeySet() and turns every double quote into a
// single one; the library (Apache Tuweni, formerly Cava) prints a part as
// is when it is a bare key ([A-Za-z0-9_-]+), whether or not the file quoted
// it, and otherwise in double quotes with ' escaped as \' and characters
// outside printable ASCII as \uXXXX (or \UXXXXXXXX). So "hostname" is
// hostname, 'synapse.observers' is 'synapse.observers'.
func CanonicalPart(k string) string {
	if simpleKey().MatchString(k) {
		return k
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range k {
		switch {
		case r > 0xFFFF:
			fmt.Fprintf(&b, "\\U%08x", r)
		case r == '\'':
			b.WriteString("\\'")
		case r >= 0x20 && r < 0x7F:
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("\\t")
		case r == '\b':
			b.WriteString("\\b")
		case r == '\n':
			b.WriteString("\\n")
		case r == '\r':
			b.WriteString("\\r")
		case r == '\f':
			b.WriteString("\\f")
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	b.WriteByte('"')
	return strings.ReplaceAll(b.String(), `"`, "'")
}

// StripBOM removes a UTF-8 byte-order mark from the start of data and
// reports whether there was one.
func StripBOM(data []byte) ([]byte, bool) {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return data[3:], true
	}
	return data, false
}

type kv struct {
	key string
	val any
}

// inlineTable keeps the order of an inline table's keys.
type inlineTable []kv

// plain turns parser values into plain Go values.
func plain(v any) any {
	switch x := v.(type) {
	case inlineTable:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.key] = plain(e.val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func (p *tomlParser) value(n *unstable.Node, depth int) (any, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("values nested more than %d deep", maxNesting)
	}
	switch n.Kind {
	case unstable.String:
		return string(n.Data), nil
	case unstable.Bool:
		return string(n.Data) == "true", nil
	case unstable.Integer:
		s := strings.ReplaceAll(string(n.Data), "_", "")
		base := 10
		switch {
		case strings.HasPrefix(s, "0x"):
			base, s = 16, s[2:]
		case strings.HasPrefix(s, "0o"):
			base, s = 8, s[2:]
		case strings.HasPrefix(s, "0b"):
			base, s = 2, s[2:]
		}
		i, err := strconv.ParseInt(s, base, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %q: %w", n.Data, err)
		}
		return i, nil
	case unstable.Float:
		s := strings.ReplaceAll(string(n.Data), "_", "")
		switch s {
		case "inf", "+inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		case "nan", "+nan", "-nan":
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("float %q: %w", n.Data, err)
		}
		return f, nil
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return string(n.Data), nil
	case unstable.Array:
		out := []any{}
		it := n.Children()
		for it.Next() {
			v, err := p.value(it.Node(), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case unstable.InlineTable:
		var out inlineTable
		seen := map[string]bool{}
		it := n.Children()
		for it.Next() {
			kvn := it.Node()
			k := strings.Join(p.parts(kvn), ".")
			if seen[k] {
				return nil, fmt.Errorf("duplicate key %s in inline table", k)
			}
			seen[k] = true
			v, err := p.value(kvn.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, kv{key: k, val: v})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported TOML value kind %s", n.Kind)
}
