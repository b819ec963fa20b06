package rules

import (
	"errors"

	"github.com/rampart-sec/rampart/internal/finding"
)

// The compiled file's header (the rules, the files they came from, the
// environment) in the same plain binary form as its expressions (see
// astcodec.go): strings are their length and bytes, numbers varints, an
// empty list is nil. Decoding it is slicing the embedded file: gob, which
// wrote it before, built its decoders by reflection at every start and
// cost a fresh process as much as the rest of reading the rules.

func encodeHeader(c *compiled) []byte {
	e := &astEncoder{}
	e.uint(uint64(c.Format))
	e.str(c.Env)
	e.uint(uint64(len(c.Files)))
	for _, f := range c.Files {
		e.str(f.Name)
		e.str(string(f.SHA256[:]))
	}
	e.uint(uint64(len(c.Rules)))
	for _, r := range c.Rules {
		e.str(r.ID)
		e.str(r.Title)
		e.int(int64(r.Severity))
		e.strs(r.Profiles)
		e.strs(r.Sources)
		e.str(r.Description)
		e.uint(uint64(len(r.Checks)))
		for _, ch := range r.Checks {
			e.str(ch.Kind)
			e.strs(ch.Requires)
			e.str(ch.When)
			e.str(ch.SkipMessage)
			e.str(ch.Assert)
			e.str(ch.Message)
			e.str(ch.PassMessage)
			e.strs(ch.Evidence)
			e.str(ch.Errors)
			e.bool(ch.Partial)
		}
		e.str(r.Remediation)
		e.strs(r.References)
		e.str(r.Domain)
		e.str(r.File)
		e.int(int64(r.Line))
	}
	return e.buf
}

func (e *astEncoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// decodeHeader reads what encodeHeader wrote; the strings are substrings
// of b.
func decodeHeader(b string) (*compiled, error) {
	d := &astDecoder{rest: b}
	c := &compiled{Format: int(d.uint())}
	if c.Format != compiledFormat {
		return nil, errors.New("compiled file: another format")
	}
	c.Env = d.str()
	if n := d.count(); n > 0 {
		c.Files = make([]compiledSource, n)
		for i := range c.Files {
			c.Files[i].Name = d.str()
			if sum := d.str(); len(sum) == len(c.Files[i].SHA256) {
				copy(c.Files[i].SHA256[:], sum)
			} else {
				d.fail("bad checksum")
			}
		}
	}
	n := d.count()
	c.Rules = make([]compiledRule, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		r := compiledRule{ID: d.str(), Title: d.str(), Severity: finding.Severity(d.int()), Profiles: d.strs(), Sources: d.strs(), Description: d.str()}
		if k := d.count(); k > 0 {
			r.Checks = make([]*Check, k)
			for j := range r.Checks {
				r.Checks[j] = &Check{Kind: d.str(), Requires: d.strs(), When: d.str(), SkipMessage: d.str(), Assert: d.str(),
					Message: d.str(), PassMessage: d.str(), Evidence: d.strs(), Errors: d.str(), Partial: d.bool()}
			}
		}
		r.Remediation, r.References, r.Domain, r.File, r.Line = d.str(), d.strs(), d.str(), d.str(), int(d.int())
		c.Rules = append(c.Rules, r)
	}
	if d.err == nil && d.rest != "" {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

func (d *astDecoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}
