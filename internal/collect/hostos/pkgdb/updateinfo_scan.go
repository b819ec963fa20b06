package pkgdb

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxAdvisoryBytes bounds one <update> element.
const maxAdvisoryBytes = 64 << 20

// ParseUpdateInfo streams the advisories of an updateinfo.xml to fn, in
// file order; fn's error stops the parse and is returned. A document that
// is not updateinfo (no <updates> root) or that ends early is an error.
//
// A distribution's updateinfo runs to tens of megabytes, which
// encoding/xml reads at about 50 MB/s; so each <update> element is cut out
// with a byte search and, when it is written the plain way the publishers
// write it (no comments, CDATA, processing instructions, namespace
// prefixes or repeated fields), read by a scanner of the few tags needed;
// any other element is decoded by encoding/xml, so both read the same
// (FuzzParseUpdateInfo checks they do).
func ParseUpdateInfo(rd io.Reader, fn func(Advisory) error) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), maxAdvisoryBytes)
	sc.Split(splitAfter([]byte("</update>")))
	first, done := true, false
	n := 0
	for sc.Scan() {
		chunk := sc.Bytes()
		if done {
			return errors.New("updateinfo: content after </updates>")
		}
		if first {
			rest, empty, err := afterUpdatesRoot(chunk)
			if err != nil {
				return err
			}
			chunk, first = rest, false
			if empty { // <updates/>
				if len(bytes.TrimSpace(chunk)) > 0 {
					return errors.New("updateinfo: content after <updates/>")
				}
				done = true
				continue
			}
		}
		final := !bytes.HasSuffix(chunk, []byte("</update>"))
		var as []Advisory
		if a, ok := scanUpdate(chunk); ok && !final {
			as = []Advisory{a}
		} else {
			var err error
			as, done, err = decodeChunk(chunk, final)
			if err != nil {
				return fmt.Errorf("updateinfo: after advisory %d: %w", n, err)
			}
			if !final {
				done = false
			} else if !done {
				return errors.New("updateinfo: truncated (no </updates>)")
			}
		}
		for _, a := range as {
			n++
			if n > maxAdvisories {
				return fmt.Errorf("updateinfo: more than %d advisories", maxAdvisories)
			}
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("updateinfo: an advisory longer than %d bytes", maxAdvisoryBytes)
		}
		return fmt.Errorf("updateinfo: %w", err)
	}
	if first {
		return errors.New("not updateinfo: empty")
	}
	if !done {
		return errors.New("updateinfo: truncated (no </updates>)")
	}
	return nil
}

// afterUpdatesRoot checks the document's prolog and root start tag
// (<updates>) and returns what follows it; empty tells <updates/>.
func afterUpdatesRoot(b []byte) (rest []byte, empty bool, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil, false, fmt.Errorf("not updateinfo: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "updates" {
				return nil, false, fmt.Errorf("not updateinfo: root element <%s>", t.Name.Local)
			}
			off := d.InputOffset()
			return b[off:], bytes.HasSuffix(b[:off], []byte("/>")), nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, false, errors.New("not updateinfo: text before the root element")
			}
		case xml.EndElement:
			return nil, false, errors.New("not updateinfo: no <updates> element")
		}
	}
}

// decodeChunk reads a piece of the document inside <updates> with
// encoding/xml, as a whole-document decoder would: <update> elements are
// decoded, other elements skipped, text ignored. The final piece holds the
// document's </updates>; closed tells whether it was met.
func decodeChunk(b []byte, final bool) (as []Advisory, closed bool, err error) {
	doc := append([]byte("<updates>"), b...)
	if !final {
		doc = append(doc, "</updates>"...)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	if _, err := d.Token(); err != nil { // the <updates> added
		return nil, false, err
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return as, closed, nil
		}
		if err != nil {
			return nil, false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if closed {
				return nil, false, fmt.Errorf("<%s> after </updates>", t.Name.Local)
			}
			if t.Name.Local != "update" {
				if err := d.Skip(); err != nil {
					return nil, false, err
				}
				continue
			}
			var u xmlUpdate
			if err := d.DecodeElement(&u, &t); err != nil {
				return nil, false, err
			}
			as = append(as, u.advisory())
		case xml.EndElement:
			if t.Name.Local != "updates" || closed {
				return nil, false, fmt.Errorf("unexpected </%s>", t.Name.Local)
			}
			closed = true
		}
	}
}

// scanUpdate reads one chunk (white space, then <update ...>...</update>)
// written the plain way: it walks the tags, keeping the text of <id> and
// <severity> and the attributes of <module> and <package>, at the depths
// the updateinfo format puts them. ok is false for anything else (a
// comment, CDATA, a prefixed or repeated element, an unknown entity),
// which decodeChunk then reads.
func scanUpdate(b []byte) (a Advisory, ok bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<update")) || bytes.Contains(b, []byte("<!")) || bytes.Contains(b, []byte("<?")) {
		return a, false
	}
	var stack [][]byte
	var attrs tagAttrs
	var text *strings.Builder // collecting <id> or <severity>
	var id, sev strings.Builder
	seen := map[string]bool{} // the children of <update> read once
	var col *Collection
	modules := 0 // <module> elements in the current collection
	for len(b) > 0 {
		lt := bytes.IndexByte(b, '<')
		if lt < 0 {
			return a, false // text after </update>
		}
		if text != nil {
			t, ok := unescape(b[:lt])
			if !ok {
				return a, false
			}
			text.WriteString(t)
		} else if len(stack) == 0 && len(bytes.TrimSpace(b[:lt])) > 0 {
			return a, false
		}
		b = b[lt+1:]
		if len(b) > 0 && b[0] == '/' { // an end tag
			gt := bytes.IndexByte(b, '>')
			if gt < 0 || len(stack) == 0 {
				return a, false
			}
			name := bytes.TrimRight(b[1:gt], " \t\r\n")
			if !bytes.Equal(name, stack[len(stack)-1]) {
				return a, false
			}
			stack = stack[:len(stack)-1]
			b = b[gt+1:]
			text = nil
			if col != nil && len(stack) == 2 {
				a.Collections = append(a.Collections, *col)
				col = nil
			}
			if len(stack) == 0 {
				if len(bytes.TrimSpace(b)) > 0 {
					return a, false
				}
				a.ID, a.Severity = strings.TrimSpace(id.String()), strings.TrimSpace(sev.String())
				return a, true
			}
			continue
		}
		n := 0
		for n < len(b) && !isTagEnd(b[n]) && b[n] != '<' {
			n++
		}
		name := b[:n]
		if n == 0 || bytes.ContainsAny(name, ":&\"'=") || text != nil {
			return a, false // a prefixed name, or markup inside <id>/<severity>
		}
		var used int
		var selfClosing bool
		attrs, used, selfClosing, ok = startTag(b[n:], attrs[:0])
		if !ok {
			return a, false
		}
		b = b[n+used:]
		depth := len(stack) // 0: <update>, 1: its children, ...
		var parent []byte
		if depth >= 1 {
			parent = stack[min(depth, 3)-1]
		}
		switch tag := string(name); {
		case depth == 0:
			if tag != "update" {
				return a, false
			}
			a.Type = strings.ToLower(strings.TrimSpace(attrs.get("type")))
		case depth == 1 && (tag == "id" || tag == "severity" || tag == "pkglist"):
			if seen[tag] {
				return a, false
			}
			seen[tag] = true
			if tag == "id" {
				text = &id
			} else if tag == "severity" {
				text = &sev
			}
		case depth == 2 && string(parent) == "pkglist" && tag == "collection":
			col, modules = &Collection{Packages: []AdvisoryPackage{}}, 0
		case depth == 3 && col != nil && tag == "module":
			if modules++; modules > 1 {
				return a, false
			}
			if name := attrs.get("name"); name != "" {
				col.Module = &ModuleRef{Name: name, Stream: attrs.get("stream")}
			}
		case depth == 3 && col != nil && tag == "package":
			if name, version := attrs.get("name"), attrs.get("version"); name != "" && version != "" {
				col.Packages = append(col.Packages, AdvisoryPackage{
					Name: name, Arch: attrs.get("arch"),
					EVR: EVR{Epoch: ParseEpoch(attrs.get("epoch")), Version: version, Release: attrs.get("release")},
				})
			}
		}
		if selfClosing {
			if depth == 2 && col != nil {
				a.Collections = append(a.Collections, *col)
				col = nil
			}
			if depth == 0 {
				return a, false // <update/> then more
			}
			text = nil
			continue
		}
		stack = append(stack, name)
	}
	return a, false
}

func isTagEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/'
}

// tagAttrs are a start tag's attributes, values as written.
type tagAttrs []tagAttr

type tagAttr struct{ name, raw []byte }

// get returns the value of attribute name ("" when absent).
func (as tagAttrs) get(name string) string {
	for _, a := range as {
		if string(a.name) == name {
			v, _ := unescape(a.raw) // checked when the tag was read
			return v
		}
	}
	return ""
}

// startTag parses the attributes of a start tag whose name was just read,
// up to its '>', appending them to attrs: used is the bytes read,
// selfClosing tells "/>".
func startTag(b []byte, attrs tagAttrs) (_ tagAttrs, used int, selfClosing, ok bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
	}
	for {
		start := i
		ws()
		if i >= len(b) {
			return nil, 0, false, false
		}
		switch b[i] {
		case '>':
			return attrs, i + 1, false, true
		case '/':
			if i+1 < len(b) && b[i+1] == '>' {
				return attrs, i + 2, true, true
			}
			return nil, 0, false, false
		}
		if i == start { // attributes are separated by white space
			return nil, 0, false, false
		}
		n := i
		for i < len(b) && b[i] != '=' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' && b[i] != '>' && b[i] != '/' {
			i++
		}
		name := b[n:i]
		if len(name) == 0 || bytes.ContainsAny(name, ":<\"'&") {
			return nil, 0, false, false
		}
		ws()
		if i >= len(b) || b[i] != '=' {
			return nil, 0, false, false
		}
		i++
		ws()
		if i >= len(b) || (b[i] != '"' && b[i] != '\'') {
			return nil, 0, false, false
		}
		q := b[i]
		i++
		e := bytes.IndexByte(b[i:], q)
		if e < 0 {
			return nil, 0, false, false
		}
		raw := b[i : i+e]
		i += e + 1
		if bytes.IndexByte(raw, '<') >= 0 {
			return nil, 0, false, false
		}
		if bytes.IndexByte(raw, '&') >= 0 {
			if _, ok := unescape(raw); !ok {
				return nil, 0, false, false
			}
		}
		for _, a := range attrs {
			if bytes.Equal(a.name, name) {
				return nil, 0, false, false
			}
		}
		attrs = append(attrs, tagAttr{name, raw})
	}
}

// unescape resolves XML's predefined entities and character references;
// ok is false for anything else (or text encoding/xml would refuse).
func unescape(b []byte) (string, bool) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\r') < 0 {
		return string(b), true
	}
	var out strings.Builder
	for len(b) > 0 {
		c := b[0]
		if c == '\r' {
			// Line ends are normalised to \n.
			out.WriteByte('\n')
			b = b[1:]
			if len(b) > 0 && b[0] == '\n' {
				b = b[1:]
			}
			continue
		}
		if c != '&' {
			out.WriteByte(c)
			b = b[1:]
			continue
		}
		end := bytes.IndexByte(b, ';')
		if end < 0 {
			return "", false
		}
		ent := string(b[1:end])
		b = b[end+1:]
		switch ent {
		case "lt":
			out.WriteByte('<')
		case "gt":
			out.WriteByte('>')
		case "amp":
			out.WriteByte('&')
		case "apos":
			out.WriteByte('\'')
		case "quot":
			out.WriteByte('"')
		default:
			if !strings.HasPrefix(ent, "#") {
				return "", false
			}
			var n uint64
			var err error
			if strings.HasPrefix(ent, "#x") {
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			if err != nil || n == 0 || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) {
				return "", false
			}
			out.WriteRune(rune(n))
		}
	}
	return out.String(), true
}
