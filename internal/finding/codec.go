package finding

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// codec encodes findings compactly for a Spill: integers as varints, and
// each string either inline or, when it was seen before (titles,
// remediations, messages, references, target names: a fleet's findings
// repeat a few thousand strings), as the index of its one copy in a table
// kept in memory. Fingerprints are unique and always inline.
//
// Every field of Finding, Evidence and Exception is written: a field added
// to them must be added here too (TestCodecRoundTrip fills every field by
// reflection and fails otherwise).
type codec struct {
	ids     map[string]uint64
	strs    []string
	maxStrs int
}

func newCodec(maxStrs int) *codec {
	return &codec{ids: map[string]uint64{}, maxStrs: maxStrs}
}

func (c *codec) putStr(b []byte, s string, shared bool) []byte {
	if shared && s != "" {
		id, ok := c.ids[s]
		if !ok && len(c.strs) < c.maxStrs {
			id, ok = uint64(len(c.strs)), true
			c.ids[s] = id
			c.strs = append(c.strs, s)
		}
		if ok {
			return binary.AppendUvarint(b, id<<1|1)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s))<<1)
	return append(b, s...)
}

// putLen writes a slice's length, keeping nil apart from empty (they
// encode differently in JSON).
func putLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return binary.AppendUvarint(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func (c *codec) putStrs(b []byte, ss []string) []byte {
	b = putLen(b, len(ss), ss == nil)
	for _, s := range ss {
		b = c.putStr(b, s, true)
	}
	return b
}

func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// encode appends f to b.
func (c *codec) encode(b []byte, f *Finding) []byte {
	b = c.putStr(b, f.RuleID, true)
	b = c.putStr(b, f.Title, true)
	b = c.putStr(b, f.Target, true)
	b = c.putStr(b, string(f.Status), true)
	b = binary.AppendVarint(b, int64(f.Severity))
	b = c.putStr(b, f.Domain, true)
	b = c.putStr(b, f.Message, true)
	b = c.putStrs(b, f.Checks)
	b = putLen(b, len(f.Evidence), f.Evidence == nil)
	for i := range f.Evidence {
		e := &f.Evidence[i]
		b = c.putStr(b, e.Source, true)
		b = binary.AppendVarint(b, int64(e.Line))
		b = c.putStr(b, e.Path, true)
		b = c.putStr(b, e.Value, true)
		b = c.putStr(b, e.Check, true)
	}
	b = c.putStr(b, f.Remediation, true)
	b = c.putStrs(b, f.References)
	b = c.putStr(b, f.Fingerprint, false)
	b = putBool(b, f.Exception != nil)
	if x := f.Exception; x != nil {
		b = c.putStr(b, x.Kind, true)
		b = c.putStr(b, x.Reason, true)
		b = c.putStr(b, x.By, true)
		b = c.putStr(b, x.Expires, true)
		b = putBool(b, x.Expired)
		b = c.putStr(b, string(x.Original), true)
	}
	return b
}

var errCorrupt = errors.New("spilled findings: corrupt record")

// reader decodes what encode wrote, with the codec's string table.
type reader struct {
	c   *codec
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	v := r.uvarint()
	if r.err != nil {
		return ""
	}
	if v&1 == 1 {
		id := v >> 1
		if id >= uint64(len(r.c.strs)) {
			r.err = fmt.Errorf("%w: string %d of %d", errCorrupt, id, len(r.c.strs))
			return ""
		}
		return r.c.strs[id]
	}
	n := v >> 1
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a slice length: -1 for nil.
func (r *reader) count() int {
	v := r.uvarint()
	if r.err != nil || v == 0 {
		return -1
	}
	if v-1 > uint64(len(r.b)) { // every element takes at least one byte
		r.err = errCorrupt
		return -1
	}
	return int(v - 1)
}

func (r *reader) strs() []string {
	n := r.count()
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *reader) bool() bool {
	if r.err != nil {
		return false
	}
	if len(r.b) == 0 {
		r.err = errCorrupt
		return false
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v == 1
}

// decode reads one finding into f.
func (r *reader) decode(f *Finding) error {
	f.RuleID = r.str()
	f.Title = r.str()
	f.Target = r.str()
	f.Status = Status(r.str())
	f.Severity = Severity(r.varint())
	f.Domain = r.str()
	f.Message = r.str()
	f.Checks = r.strs()
	f.Evidence = nil
	if n := r.count(); n >= 0 {
		f.Evidence = make([]Evidence, n)
		for i := range f.Evidence {
			e := &f.Evidence[i]
			e.Source = r.str()
			e.Line = int(r.varint())
			e.Path = r.str()
			e.Value = r.str()
			e.Check = r.str()
		}
	}
	f.Remediation = r.str()
	f.References = r.strs()
	f.Fingerprint = r.str()
	f.Exception = nil
	if r.bool() {
		x := &Exception{}
		x.Kind = r.str()
		x.Reason = r.str()
		x.By = r.str()
		x.Expires = r.str()
		x.Expired = r.bool()
		x.Original = Status(r.str())
		f.Exception = x
	}
	return r.err
}
