// Package tomledit changes a TOML document such as a WSO2 deployment.toml
// without rewriting it: a value is replaced inside its own byte range (its
// quoting style kept), a new key goes after the last key of its table (in
// the table's own "key = value" spacing), and a new table is appended at
// the end. Comments, key order, blank lines and line endings stay exactly
// as written. Keys are named as the collector names them: parts joined by
// dots, quoted parts in single quotes (passthru_http.'http.origin-server'),
// array-of-tables elements by index (internal_apis.users[0].user.name).
package tomledit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/rampart-sec/rampart/internal/fix/edit"
)

// MaxSize bounds the documents edited (real ones are a few KiB).
const MaxSize = 4 << 20

// Doc is a parsed document and the changes asked of it.
type Doc struct {
	src    []byte
	bom    int
	nl     string
	kvs    []keyValue
	tables []*table
	byName map[string]*table

	sets   []*set
	setIdx map[string]int // flat key -> index in sets
	adds   []*newArrayElem
	seq    int
	// Canonical maps a key as written to the names the product gives it
	// (key-mappings.json renames); nil means every key is its own name.
	Canonical func(written string) []string
}

type keyValue struct {
	flat           string
	table          *table
	line           int
	start, end     int // "key = value"
	keyEnd         int // end of the last key part
	valStart       int
	kind           unstable.Kind
	quote          byte
	value          any
	lineEnd        int // offset after the line's newline
	indent, sep    string
	multiLineValue bool
}

type table struct {
	name      string // "a.b", "a.b[1]" for an array element, "" for the root
	array     bool
	line      int
	headerEnd int // offset after the header line's newline (0 for the root)
	lastKV    *keyValue
}

// Value is what a key is set to: a string, bool, int64 or []string.
type Value = any

type set struct {
	table, leaf string
	flat        string
	value       Value
	rules       []string
	seq         int
}

type newArrayElem struct {
	name  string
	keys  []KV
	rule  string
	seq   int
	index int
}

// KV is one key of a new array-of-tables element, in TOML key syntax.
type KV struct {
	Key   string
	Value Value
}

// Parse reads a document. A document the TOML parser refuses is an error
// naming the line.
func Parse(src []byte) (*Doc, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%d bytes is over the %d MiB limit", len(src), MaxSize>>20)
	}
	d := &Doc{src: src, nl: edit.LineEnding(src), byName: map[string]*table{}, setIdx: map[string]int{}}
	body := src
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		d.bom = 3
		body = body[3:]
	}
	root := &table{name: ""}
	d.tables = append(d.tables, root)
	d.byName[""] = root
	cur := root
	arrays := map[string]int{}
	seen := map[string]int{} // flat key or table name -> line
	var p unstable.Parser
	p.Reset(body)
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts, first := keyParts(body, n)
			name := strings.Join(parts, ".")
			t := &table{name: name, array: n.Kind == unstable.ArrayTable}
			if t.array {
				t.name = name + "[" + strconv.Itoa(arrays[name]) + "]"
				arrays[name]++
			} else if base, idx, ok := insideArrayElem(name, arrays); ok {
				// [a.b] after [[a]] is a sub-table of a's last element.
				t.name = base + "[" + strconv.Itoa(idx) + "]" + name[len(base):]
			}
			off := d.bom + first
			t.line = lineOf(src, off)
			if prev, dup := seen["["+t.name+"]"]; dup && !t.array {
				return nil, fmt.Errorf("line %d: table [%s] is already defined at line %d", t.line, name, prev)
			}
			seen["["+t.name+"]"] = t.line
			t.headerEnd = edit.LineEnd(src, off)
			d.tables = append(d.tables, t)
			d.byName[t.name] = t
			cur = t
		case unstable.KeyValue:
			parts, _ := keyParts(body, n)
			kv := keyValue{table: cur}
			rel := strings.Join(parts, ".")
			kv.flat = rel
			if cur.name != "" {
				kv.flat = cur.name + "." + rel
			}
			kv.start = d.bom + int(n.Raw.Offset)
			kv.end = kv.start + int(n.Raw.Length)
			kv.keyEnd = d.bom + lastKeyEnd(n)
			kv.valStart = skipToValue(src, kv.keyEnd)
			v := n.Value()
			kv.kind = v.Kind
			kv.value = scalar(v)
			if v.Kind == unstable.String && kv.valStart < len(src) {
				q := src[kv.valStart]
				if (q == '"' || q == '\'') && !bytes.HasPrefix(src[kv.valStart:], []byte{q, q, q}) {
					kv.quote = q
				}
			}
			kv.line = lineOf(src, kv.start)
			if prev, dup := seen[kv.flat]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %s (first set at line %d)", kv.line, kv.flat, prev)
			}
			seen[kv.flat] = kv.line
			kv.multiLineValue = bytes.IndexByte(src[kv.start:kv.end], '\n') >= 0
			kv.lineEnd = edit.LineEnd(src, kv.end)
			ls := edit.LineStart(src, kv.start)
			kv.indent = string(src[ls:kv.start])
			kv.sep = string(src[kv.keyEnd:kv.valStart])
			d.kvs = append(d.kvs, kv)
		}
	}
	if err := p.Error(); err != nil {
		var perr *unstable.ParserError
		if errors.As(err, &perr) && len(perr.Highlight) > 0 {
			if off := cap(body) - cap(perr.Highlight); off >= 0 && off <= len(body) {
				return nil, fmt.Errorf("line %d: %s", lineOf(src, d.bom+off), perr.Message)
			}
			return nil, fmt.Errorf("%s", perr.Message)
		}
		return nil, err
	}
	// The pointers taken while appending may be stale: rebind them.
	for _, t := range d.tables {
		t.lastKV = nil
	}
	for i := range d.kvs {
		d.kvs[i].table.lastKV = &d.kvs[i]
	}
	return d, nil
}

func insideArrayElem(name string, arrays map[string]int) (string, int, bool) {
	best := ""
	for a := range arrays {
		if strings.HasPrefix(name, a+".") && len(a) > len(best) {
			best = a
		}
	}
	if best == "" {
		return "", 0, false
	}
	return best, arrays[best] - 1, true
}

// keyParts returns a node's key parts as the collector names them and the
// offset of the first part.
func keyParts(data []byte, n *unstable.Node) ([]string, int) {
	var parts []string
	first := -1
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if first < 0 {
			first = int(k.Raw.Offset)
		}
		raw := data[k.Raw.Offset : k.Raw.Offset+k.Raw.Length]
		if len(raw) > 0 && (raw[0] == '\'' || raw[0] == '"') {
			parts = append(parts, "'"+string(k.Data)+"'")
		} else {
			parts = append(parts, string(k.Data))
		}
	}
	return parts, first
}

func lastKeyEnd(n *unstable.Node) int {
	end := 0
	it := n.Key()
	for it.Next() {
		k := it.Node()
		end = int(k.Raw.Offset + k.Raw.Length)
	}
	return end
}

// skipToValue returns the offset of a value: past spaces, '=' and spaces.
func skipToValue(b []byte, off int) int {
	for off < len(b) && (b[off] == ' ' || b[off] == '\t') {
		off++
	}
	if off < len(b) && b[off] == '=' {
		off++
	}
	for off < len(b) && (b[off] == ' ' || b[off] == '\t') {
		off++
	}
	return off
}

func scalar(v *unstable.Node) any {
	switch v.Kind {
	case unstable.String:
		return string(v.Data)
	case unstable.Bool:
		return string(v.Data) == "true"
	case unstable.Integer:
		if i, err := strconv.ParseInt(strings.ReplaceAll(string(v.Data), "_", ""), 10, 64); err == nil {
			return i
		}
	}
	return nil
}

func lineOf(b []byte, off int) int { return 1 + bytes.Count(b[:off], []byte{'\n'}) }

// Lookup returns the written value of a key (a string, bool or int64; nil
// for other kinds), its line, and whether the document writes it. Keys are
// matched as written and, through Canonical, by the names they map to.
func (d *Doc) Lookup(flat string) (any, int, bool) {
	if kv := d.find(flat); kv != nil {
		return kv.value, kv.line, true
	}
	return nil, 0, false
}

// KeyAt returns the flat key written on line (as written, not renamed).
func (d *Doc) KeyAt(line int) (string, bool) {
	for i := range d.kvs {
		if d.kvs[i].line == line {
			return d.kvs[i].flat, true
		}
	}
	return "", false
}

// ArrayLen is how many [[name]] elements the document has.
func (d *Doc) ArrayLen(name string) int {
	n := 0
	for _, t := range d.tables {
		if t.array && strings.HasPrefix(t.name, name+"[") && !strings.Contains(t.name[len(name)+1:], ".") {
			n++
		}
	}
	return n
}

// Keys lists every key the document writes, as written, in file order.
func (d *Doc) Keys() []string {
	out := make([]string, len(d.kvs))
	for i, kv := range d.kvs {
		out[i] = kv.flat
	}
	return out
}

func (d *Doc) find(flat string) *keyValue {
	for i := range d.kvs {
		if d.kvs[i].flat == flat {
			return &d.kvs[i]
		}
	}
	if d.Canonical != nil {
		for i := range d.kvs {
			for _, c := range d.Canonical(d.kvs[i].flat) {
				if c == flat {
					return &d.kvs[i]
				}
			}
		}
	}
	return nil
}

// Set asks for key leaf of table to hold v. An existing key (as written
// or renamed to table.leaf) gets its value replaced; otherwise the key is
// added to the table, or the table is added at the end. A later Set of
// the same key wins; the rules of both are kept. Setting a key to the
// value it already has changes nothing.
func (d *Doc) Set(table, leaf string, v Value, rule string) {
	flat := leaf
	if table != "" {
		flat = table + "." + leaf
	}
	d.seq++
	if i, ok := d.setIdx[flat]; ok {
		s := d.sets[i]
		s.value = v
		if !slices.Contains(s.rules, rule) {
			s.rules = append(s.rules, rule)
		}
		return
	}
	d.setIdx[flat] = len(d.sets)
	d.sets = append(d.sets, &set{table: table, leaf: leaf, flat: flat, value: v, rules: []string{rule}, seq: d.seq})
}

// SetAt replaces the value of the key written on line (1-based). It
// reports false when no key is written there.
func (d *Doc) SetAt(line int, v Value, rule string) bool {
	for i := range d.kvs {
		kv := &d.kvs[i]
		if kv.line != line {
			continue
		}
		rel := kv.flat
		if kv.table.name != "" {
			rel = strings.TrimPrefix(kv.flat, kv.table.name+".")
		}
		d.Set(kv.table.name, rel, v, rule)
		return true
	}
	return false
}

// LineOf returns the line of the key written as flat, or renamed to it.
func (d *Doc) LineOf(flat string) (int, bool) {
	if kv := d.find(flat); kv != nil {
		return kv.line, true
	}
	return 0, false
}

// AppendArrayElement adds a [[name]] element with keys at the end of the
// document and returns its index.
func (d *Doc) AppendArrayElement(name string, keys []KV, rule string) int {
	d.seq++
	idx := d.ArrayLen(name)
	for _, a := range d.adds {
		if a.name == name {
			idx++
		}
	}
	d.adds = append(d.adds, &newArrayElem{name: name, keys: keys, rule: rule, seq: d.seq, index: idx})
	return idx
}

// Render returns the edited document and a record per change.
func (d *Doc) Render() ([]byte, []edit.Record, error) {
	var reps []edit.Replacement
	type pendingTable struct {
		name string
		seq  int
		sets []*set
	}
	var newTables []*pendingTable
	byTable := map[string]*pendingTable{}
	for _, s := range d.sets {
		rule := strings.Join(s.rules, ",")
		what := describe(s.table, s.leaf)
		if kv := d.find(s.flat); kv != nil {
			if equalValue(kv.value, s.value) {
				continue
			}
			text := renderValue(s.value, kv.quote)
			reps = append(reps, edit.Replacement{Start: kv.valStart, End: kv.end, Text: text, Rule: rule, What: what, Seq: s.seq})
			continue
		}
		t, ok := d.byName[s.table]
		leaf := s.leaf
		if !ok {
			// A table defined by dotted keys ([a] b.c = 1 defines a.b) takes
			// the key as a dotted key where those are written.
			if dt, rel := d.dottedTable(s.table); dt != nil {
				t, ok, leaf = dt, true, rel+"."+s.leaf
			}
		}
		if ok {
			pos, indent, sep := t.headerEnd, "", " = "
			if t.lastKV != nil {
				pos, indent, sep = t.lastKV.lineEnd, t.lastKV.indent, t.lastKV.sep
			}
			if t.name == "" && t.lastKV == nil {
				pos = 0
			}
			prefix := ""
			if pos > 0 && d.src[pos-1] != '\n' {
				prefix = d.nl
			}
			line := prefix + indent + leaf + sep + renderValue(s.value, 0) + d.nl
			reps = append(reps, edit.Replacement{Start: pos, End: pos, Text: line, Rule: rule, What: what, Seq: s.seq})
			continue
		}
		pt, ok := byTable[s.table]
		if !ok {
			pt = &pendingTable{name: s.table, seq: s.seq}
			byTable[s.table] = pt
			newTables = append(newTables, pt)
		}
		pt.sets = append(pt.sets, s)
	}
	// New tables and array elements go at the end, in the order asked.
	type tail struct {
		seq        int
		text, rule string
		what       string
	}
	var tails []tail
	for _, pt := range newTables {
		var b strings.Builder
		b.WriteString(d.nl + "[" + pt.name + "]" + d.nl)
		var rules []string
		for _, s := range pt.sets {
			b.WriteString(s.leaf + " = " + renderValue(s.value, 0) + d.nl)
			for _, r := range s.rules {
				if !slices.Contains(rules, r) {
					rules = append(rules, r)
				}
			}
		}
		tails = append(tails, tail{seq: pt.seq, text: b.String(), rule: strings.Join(rules, ","), what: "[" + pt.name + "]"})
	}
	for _, a := range d.adds {
		var b strings.Builder
		b.WriteString(d.nl + "[[" + a.name + "]]" + d.nl)
		for _, kv := range a.keys {
			b.WriteString(kv.Key + " = " + renderValue(kv.Value, 0) + d.nl)
		}
		tails = append(tails, tail{seq: a.seq, text: b.String(), rule: a.rule, what: "[[" + a.name + "]]"})
	}
	sort.SliceStable(tails, func(i, j int) bool { return tails[i].seq < tails[j].seq })
	end := len(d.src)
	for i, t := range tails {
		text := t.text
		if i == 0 && end > 0 && d.src[end-1] != '\n' {
			text = d.nl + text
		}
		if i == 0 && end == 0 {
			text = strings.TrimPrefix(text, d.nl)
		}
		reps = append(reps, edit.Replacement{Start: end, End: end, Text: text, Rule: t.rule, What: t.what, Seq: 1<<30 + i})
	}
	return edit.Apply(d.src, reps)
}

// dottedTable finds the table whose dotted keys define name implicitly:
// the table of a key written as name.something, and name relative to it.
func (d *Doc) dottedTable(name string) (*table, string) {
	for i := range d.kvs {
		kv := &d.kvs[i]
		if !strings.HasPrefix(kv.flat, name+".") {
			continue
		}
		t := kv.table
		if t.name == "" {
			return t, name
		}
		if strings.HasPrefix(name, t.name+".") {
			return t, name[len(t.name)+1:]
		}
	}
	return nil, ""
}

func describe(table, leaf string) string {
	if table == "" {
		return leaf
	}
	return "[" + table + "] " + leaf
}

func equalValue(old any, v Value) bool {
	switch x := v.(type) {
	case string:
		s, ok := old.(string)
		return ok && s == x
	case bool:
		b, ok := old.(bool)
		return ok && b == x
	case int64:
		i, ok := old.(int64)
		return ok && i == x
	case int:
		i, ok := old.(int64)
		return ok && i == int64(x)
	}
	return false
}

// renderValue writes v as TOML. A string keeps the quote style it
// replaces when it can be written so.
func renderValue(v Value, quote byte) string {
	switch x := v.(type) {
	case string:
		if quote == '\'' && !strings.ContainsAny(x, "'\n\r") && !hasControl(x) {
			return "'" + x + "'"
		}
		return Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return Quote(fmt.Sprint(v))
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return true
		}
	}
	return false
}

// Quote writes s as a TOML basic string.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
