// Package waiver reads waiver and attestation files and applies them to
// findings. A waiver accepts a failure for a while (status waived); an
// attestation records evidence for a guideline that cannot be observed
// (status attested). Both name a rule, a target pattern, who, why and an
// expiry date; once expired they no longer apply and the finding says so.
package waiver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/glob"
	"github.com/rampart-sec/rampart/internal/hint"
)

// Entry is one waiver or attestation.
type Entry struct {
	Rule string `yaml:"rule"`
	// Target is a glob over target names ("*", "10.0.1.*", "/opt/wso2*");
	// empty means every target.
	Target string `yaml:"target"`
	// Reason (waivers) or Evidence (attestations) says why.
	Reason   string `yaml:"reason"`
	Evidence string `yaml:"evidence"`
	By       string `yaml:"by"`
	// Expires is a date, YYYY-MM-DD; the entry applies through that day (UTC).
	Expires string `yaml:"expires"`

	// Source and Line say where the entry was written.
	Source  string    `yaml:"-"`
	Line    int       `yaml:"-"`
	expires time.Time // first instant it no longer applies
}

// Why returns the reason or the evidence.
func (e Entry) Why() string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Evidence
}

// Matches reports whether the entry covers rule on target. In the target
// pattern `*` matches any run of characters (slashes included, so
// "/opt/wso2*" covers every product home under /opt) and `?` one character.
func (e Entry) Matches(rule, target string) bool {
	if e.Rule != rule {
		return false
	}
	if e.Target == "" || e.Target == "*" {
		return true
	}
	return glob.Match(e.Target, target)
}

// Expired reports whether the entry no longer applies at now.
func (e Entry) Expired(now time.Time) bool { return !now.Before(e.expires) }

// File is a parsed waivers or attestations file.
type File struct {
	Waivers      []Entry `yaml:"waivers"`
	Attestations []Entry `yaml:"attestations"`
}

// maxFileSize bounds a waiver file.
const maxFileSize = 4 << 20

// Parse reads a waivers or attestations file. knownRule reports whether a
// rule ID exists, so a typo is an error rather than a waiver that never
// matches. name is used in error messages.
func Parse(r io.Reader, name string, knownRule func(string) bool) (*File, error) {
	return ParseSuggest(r, name, knownRule, nil)
}

// ParseSuggest is Parse that also suggests, for an unknown rule, the
// closest of ids ("did you mean TLS-002?").
func ParseSuggest(r io.Reader, name string, knownRule func(string) bool, ids []string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileSize)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{}, nil
		}
		return nil, fmt.Errorf("%s: %w", name, hint.YAML(err, data, f))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil && len(doc.Content) > 0 {
		setLines(doc.Content[0], "waivers", f.Waivers)
		setLines(doc.Content[0], "attestations", f.Attestations)
	}
	var probs []string
	check := func(kind string, es []Entry) {
		for i := range es {
			e := &es[i]
			e.Source = name
			at := fmt.Sprintf("%s:%d: %s %d", name, e.Line, kind, i+1)
			if e.Rule == "" {
				probs = append(probs, at+": missing rule")
			} else if knownRule != nil && !knownRule(e.Rule) {
				probs = append(probs, fmt.Sprintf("%s: unknown rule %q%s", at, e.Rule, hint.DidYouMean(e.Rule, ids)))
			}
			if strings.TrimSpace(e.Why()) == "" {
				if kind == "waiver" {
					probs = append(probs, at+": missing reason")
				} else {
					probs = append(probs, at+": missing evidence")
				}
			}
			if strings.TrimSpace(e.By) == "" {
				probs = append(probs, at+": missing by (who accepts or attests it)")
			}
			d, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: expires must be a date (YYYY-MM-DD), got %q", at, e.Expires))
				continue
			}
			e.expires = d.AddDate(0, 0, 1)
		}
	}
	check("waiver", f.Waivers)
	check("attestation", f.Attestations)
	if len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "\n"))
	}
	return &f, nil
}

func setLines(top *yaml.Node, key string, es []Entry) {
	if top.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != key || top.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, n := range top.Content[i+1].Content {
			if j < len(es) {
				es[j].Line = n.Line
			}
		}
	}
}
