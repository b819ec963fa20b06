package wso2kb

import (
	"path"
	"regexp"
	"sort"
	"strings"
)

// InResources is name under the configuration mapper's resources.
func (l *Layout) InResources(name string) string { return path.Join(l.Resources, name) }

// Template is the template a file of the home renders from.
func (l *Layout) Template(file string) string { return path.Join(l.Templates, file) + ".j2" }

// ListenerNames lists the layout's TLS listeners by name.
func (l *Layout) ListenerNames() []string {
	out := make([]string, 0, len(l.Listeners))
	for n, def := range l.Listeners {
		if def != nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// KnownDefaultSecret reports whether v is a secret WSO2 publishes.
func (l *Layout) KnownDefaultSecret(v string) bool {
	for _, k := range l.Secrets.KnownDefaults {
		if k.Value == v {
			return true
		}
	}
	return false
}

// SecretKeySegment matches the last part of a key that holds a secret.
func (l *Layout) SecretKeySegment() *regexp.Regexp { return l.catalog.regexp(l.Secrets.KeySegment) }

// SecretRoot matches the keys whose shipped default is rendered.
func (l *Layout) SecretRoot() *regexp.Regexp {
	alts := make([]string, len(l.Secrets.Roots))
	for i, r := range l.Secrets.Roots {
		alts[i] = r.Key
	}
	return l.catalog.regexp(`^(` + strings.Join(alts, "|") + `)$`)
}

// SystemAccount matches the keys of the product's own accounts.
func (l *Layout) SystemAccount() *regexp.Regexp { return l.catalog.regexp(l.Secrets.SystemAccount) }

// DatasourceURLKey matches the keys of datasource URLs.
func (l *Layout) DatasourceURLKey() *regexp.Regexp { return l.catalog.regexp(l.DatasourceURL) }

// OffWhenFalse matches boolean keys that turn verification off when false.
func (l *Layout) OffWhenFalse() *regexp.Regexp {
	return l.catalog.regexp(l.OutboundVerification.OffWhenFalse)
}

// OffWhenTrue matches boolean keys that turn verification off when true.
func (l *Layout) OffWhenTrue() *regexp.Regexp {
	return l.catalog.regexp(l.OutboundVerification.OffWhenTrue)
}

// KeyedDefault is a documented default at a layout's version.
type KeyedDefault struct {
	Key string
	DocumentedDefault
	// Beyond says why the default is used beyond the versions it is
	// documented for ("" within them).
	Beyond string
}

// Defaults returns the documented defaults of the layout's product, by key.
// A default documented for versions that do not hold the layout's (or, for
// an unknown version, not every described one) is still returned, as the
// best knowledge there is, with Beyond saying so: a value taken from it is
// then evidence that says it is assumed.
func (l *Layout) Defaults() []KeyedDefault {
	keys := make([]string, 0, len(l.DocumentedDefaults))
	for k := range l.DocumentedDefaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]KeyedDefault, 0, len(keys))
	for _, k := range keys {
		d := KeyedDefault{Key: k, DocumentedDefault: l.DocumentedDefaults[k]}
		r, err := parseRange(d.Versions)
		if err != nil { // refused when the layout was resolved
			continue
		}
		switch {
		case l.Known && within(l.Line, r):
		case !l.Known && within(l.span[0], r) && within(l.span[1], r):
		case l.Known:
			d.Beyond = "documented for " + l.Name + " " + d.Versions + ", assumed for " + l.Line.String()
		default:
			d.Beyond = "documented for " + l.Name + " " + d.Versions + ", assumed for a version that could not be read"
		}
		out = append(out, d)
	}
	return out
}
