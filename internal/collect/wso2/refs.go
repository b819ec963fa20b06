package wso2

import (
	"regexp"
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

var (
	sysRefAny = regexp.MustCompile(`\$sys\{([^}]*)\}`)
	envRefAny = regexp.MustCompile(`\$env\{([^}]*)\}`)
	sysRefAll = regexp.MustCompile(`^\$sys\{([^}]*)\}$`)
)

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
	for _, f := range startScripts[p.det.profile] {
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
	if !strings.Contains(s, "$sys{") {
		return s
	}
	props := p.scriptProperties()
	return sysRefAny.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := props[m[len("$sys{"):len(m)-1]]; ok {
			return v.value
		}
		return m
	})
}

// unresolved says which references of an (expanded) value the files
// cannot answer, or "" when none.
func (p *product) unresolved(s string) string {
	var why []string
	for _, m := range envRefAny.FindAllStringSubmatch(s, -1) {
		why = append(why, "$env{"+m[1]+"}: an environment variable of the product's process, not in the files")
	}
	for _, m := range sysRefAny.FindAllStringSubmatch(s, -1) {
		why = append(why, "$sys{"+m[1]+"}: "+p.noPropertyReason())
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
