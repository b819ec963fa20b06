package wso2

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/script"
	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/facts"
)

// A deployment.toml value may name where the value is instead of holding
// it: $secret{alias} (Secure Vault, the [secrets] table), $env{VAR} (an
// environment variable of the product's process) and $sys{prop} (a Java
// system property, set with -Dprop=... on the command line: in the start
// script, JAVA_OPTS or a service unit). The files answer the first and,
// when the start script sets the property, the last; an environment
// variable, or a property given elsewhere, is not in the files: the value
// is unknown, and a rule that needs it cannot pass.

// sysRefOpen opens a $sys{prop} reference.
const sysRefOpen = "$sys{"

// wholeRef reports whether s is one reference open...} as a whole (the
// name holds no "}"), and returns the name.
func wholeRef(s, open string) (string, bool) {
	if len(s) < len(open)+1 || !strings.HasPrefix(s, open) || s[len(s)-1] != '}' {
		return "", false
	}
	name := s[len(open) : len(s)-1]
	if strings.Contains(name, "}") {
		return "", false
	}
	return name, true
}

// refsIn lists the names of the references open...} in s, left to right.
func refsIn(s, open string) []string {
	var out []string
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return out
		}
		s = s[i+len(open):]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return out // no reference can close after this
		}
		out = append(out, s[:j])
		s = s[j+1:]
	}
}

// replaceRefs replaces each reference open...} of s whose name value
// knows, left to right.
func replaceRefs(s, open string, value func(string) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, open)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+len(open):], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(open) + j + 1
		b.WriteString(s[:i])
		if v, ok := value(s[i+len(open) : end-1]); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i:end])
		}
		s = s[end:]
	}
}

// scriptProp is a -D system property the start script sets.
type scriptProp struct {
	value  string
	origin facts.Origin
}

// scriptProperties are the -Dname=value options of the start script's java
// command line that always apply (not those of the --debug branch), the
// last one of a name winning as it does for the JVM. Read once.
func (p *product) scriptProperties() map[string]scriptProp {
	if p.props != nil {
		return p.props
	}
	p.props = map[string]scriptProp{}
	for _, f := range p.kb.StartScripts {
		if !p.h.exists(f) {
			continue
		}
		b, err := p.h.read(f)
		if err != nil {
			return p.props
		}
		for _, o := range script.Parse(b).Options {
			if o.Conditional || !strings.HasPrefix(o.Text, "-D") {
				continue
			}
			name, value, ok := strings.Cut(strings.TrimPrefix(o.Text, "-D"), "=")
			if !ok || name == "" {
				continue
			}
			p.props[name] = scriptProp{value: strings.Trim(value, `"'`), origin: facts.Origin{File: f, Line: o.Line, Key: "-D" + name}}
		}
		p.propsFile = f
		return p.props
	}
	return p.props
}

// resolveSys replaces every $sys{prop} of s the start script sets.
func (p *product) resolveSys(s string) string {
	if !strings.Contains(s, sysRefOpen) {
		return s
	}
	props := p.scriptProperties()
	return replaceRefs(s, sysRefOpen, func(name string) (string, bool) {
		v, ok := props[name]
		return v.value, ok
	})
}

// unresolved says which references of an (expanded) value the files
// cannot answer, or "" when none.
func (p *product) unresolved(s string) string {
	var why []string
	for _, name := range refsIn(s, envRefOpen) {
		why = append(why, "$env{"+name+"}: an environment variable of the product's process, not in the files")
	}
	for _, name := range refsIn(s, sysRefOpen) {
		why = append(why, "$sys{"+name+"}: "+p.noPropertyReason())
	}
	return strings.Join(why, "; ")
}

func (p *product) noPropertyReason() string {
	p.scriptProperties()
	if p.propsFile == "" {
		return "a Java system property, and no start script was found to read it from"
	}
	return "a Java system property the start script (" + p.propsFile + ") does not set; where it is given (command line, JAVA_OPTS) is not in the files"
}

// vaultEntry finds the [secrets] entry of alias: the config mapper strips
// the quotes of a quoted alias ("my.alias" = ...), so both spellings name
// it.
func (p *product) vaultEntry(alias string) (tomlcfg.Entry, bool) {
	for _, k := range []string{"secrets." + alias, "secrets." + tomlcfg.CanonicalPart(alias)} {
		if e, ok := p.cfg.Entry(k); ok && e.Layer == tomlcfg.User {
			return e, true
		}
	}
	return tomlcfg.Entry{}, false
}

// bracketed reports whether a [secrets] value is still "[plain text]",
// written for the cipher tool and never encrypted, and returns the text.
func bracketed(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		return v[1 : len(v)-1], true
	}
	return "", false
}
