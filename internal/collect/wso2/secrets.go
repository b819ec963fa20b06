package wso2

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// References a deployment.toml value may be written as, whole: a Secure
// Vault alias, an environment variable, a Java system property.
const (
	secretRefOpen = "$secret{"
	envRefOpen    = "$env{"
	propRefOpen   = "${"
)

// secret describes the value of key (its resolved form) without keeping
// it. kind is password, key or token. A plain value is a known default
// when it is one of WSO2's well-known ones, or the very value the shipped
// default.json (a public file) gives that key.
func (p *product) secret(key, kind string) facts.Secret {
	s := facts.Secret{Key: key, Kind: kind}
	v, ok := p.cfg.Lookup(key)
	if !ok {
		s.Form = "absent"
		return s
	}
	s.Origin = p.origin(v.Source)
	if v.Source.Key != key {
		s.Origin.Note = strings.TrimSpace(s.Origin.Note + " via $ref{" + v.Source.Key + "} of " + key)
	}
	p.classify(&s, strings.TrimSpace(v.Text()), 0)
	return s
}

// secretValue is the clear text of a secret when the files hold it: the
// value as written, a [secrets] entry still in brackets behind its
// $secret{} reference, or the start script's -Dprop behind $sys{prop}.
// ok is false for cipher text and for what only the environment knows.
func (p *product) secretValue(key string) (string, bool) {
	v, ok := p.cfg.Lookup(key)
	if !ok {
		return "", false
	}
	val := strings.TrimSpace(v.Text())
	if alias, ok := wholeRef(val, secretRefOpen); ok {
		if e, ok := p.vaultEntry(alias); ok {
			return bracketed(tomlcfg.String(e.Value))
		}
		return "", false
	}
	if _, ok := wholeRef(val, envRefOpen); ok {
		return "", false
	}
	if name, ok := wholeRef(val, sysRefOpen); ok {
		prop, ok := p.scriptProperties()[name]
		return prop.value, ok
	}
	val = p.expand(val)
	if strings.Contains(val, "${") {
		return "", false
	}
	return val, true
}

func (p *product) classify(s *facts.Secret, val string, depth int) {
	known := func(v string) bool {
		return p.kb.KnownDefaultSecret(v) || (p.shipped[s.Key] != "" && p.shipped[s.Key] == v)
	}
	note := func(n string) { s.Origin.Note = strings.TrimSpace(strings.TrimPrefix(s.Origin.Note+"; "+n, "; ")) }
	secretAlias, isSecret := wholeRef(val, secretRefOpen)
	envName, isEnv := wholeRef(val, envRefOpen)
	sysName, isSys := wholeRef(val, sysRefOpen)
	propName, isProp := wholeRef(val, propRefOpen)
	switch {
	case val == "":
		s.Form = "empty"
	case isSecret:
		s.Form = "secret_ref"
		s.Alias = secretAlias
		e, ok := p.vaultEntry(s.Alias)
		s.Resolved = ok
		if !ok {
			s.Unknown = true
			note("$secret{" + s.Alias + "} names no [secrets] entry")
			return
		}
		if plain, ok := bracketed(tomlcfg.String(e.Value)); ok {
			// Written for the cipher tool and never encrypted: the secret
			// is in the file in clear text, behind the reference.
			s.Form = "plain"
			s.KnownDefault = known(plain)
			note("written as $secret{" + s.Alias + "}, whose [secrets] entry (" + e.Where() + ") is still in brackets: never encrypted by the cipher tool")
		}
	case isEnv:
		s.Form = "env_ref"
		s.Unknown = true
		note("from the environment variable " + envName + ", which the files do not hold")
	case isSys:
		name := sysName
		if prop, ok := p.scriptProperties()[name]; ok {
			// Set on the start script's command line: the secret is in that
			// file in clear text.
			s.Form = "plain"
			s.Resolved = true
			s.KnownDefault = known(prop.value)
			where := s.Origin.File
			if s.Origin.Line > 0 {
				where += ":" + itoa(s.Origin.Line)
			}
			s.Origin = prop.origin
			note("-D" + name + " in the start script, referenced as $sys{" + name + "} from " + s.Key + " (" + where + ")")
			return
		}
		s.Form = "sys_ref"
		s.Unknown = true
		note("$sys{" + name + "}: " + p.noPropertyReason())
	case isProp:
		// ${admin.password} and the like: a system property (the product's
		// alias of another setting), counted where that setting is written.
		s.Form = "sys_ref"
		name := propName
		if v, ok := p.sysProperty(name); ok {
			s.KnownDefault = depth < 4 && known(strings.TrimSpace(p.expand(v)))
			return
		}
		if prop, ok := p.scriptProperties()[name]; ok {
			s.KnownDefault = known(prop.value)
			return
		}
		s.Unknown = true
		note("${" + name + "}: " + p.noPropertyReason())
	default:
		s.Form = "plain"
		s.KnownDefault = known(val)
	}
}

// Besides the keystores, databases and accounts, the shipped defaults that
// matter when nobody wrote them (products.yaml secrets.roots) are those the
// product renders into a configuration file: the remote task server
// password, the embedded broker's store and JMX keystore, API-M 4.1's
// recovery endpoint, MI's analytics publisher and blocking client.

// secrets lists every secret in the effective configuration: each one the
// user wrote (or that infer.json derived from what they wrote), and the
// shipped defaults of the keys above. A value referenced from many keys
// ($ref) is listed once, under the key that holds it.
func (p *product) secrets() []facts.Secret {
	seen := map[string]bool{}
	var out []facts.Secret
	roots, enabledBy := p.kb.SecretRoot(), p.kb.Secrets.EnabledBy
	for _, k := range p.cfg.Keys() {
		if !p.isSecretKey(k) || strings.HasPrefix(k, "secrets.") {
			continue
		}
		e, _ := p.cfg.Entry(k)
		if _, isStr := e.Value.(string); !isStr {
			continue
		}
		v, _ := p.cfg.Lookup(k)
		src := v.Source
		if src.Layer <= tomlcfg.Default && !roots.MatchString(src.Key) {
			sw, gated := enabledBy[src.Key]
			if !gated {
				continue
			}
			if on, _ := p.boolean(sw); !on {
				continue
			}
		}
		if strings.HasSuffix(src.Key, "_file") || strings.Contains(strings.ToLower(src.Key), "location") || strings.Contains(strings.ToLower(src.Key), "keystore_file") {
			continue
		}
		if seen[src.Key] || !p.isSecretKey(src.Key) {
			continue
		}
		if src.Key == "encryption.key" && src.Layer <= tomlcfg.Default && !p.symmetricEncryption() {
			continue // shipped placeholder of a provider that does not use it
		}
		seen[src.Key] = true
		s := p.secret(src.Key, secretKind(src.Key))
		if s.Form == "empty" {
			continue
		}
		out = append(out, s)
	}
	// Array-of-tables users (MI [[internal_apis.users]]) and gateway environments.
	for _, u := range p.listUsers() {
		if u.Password.Form != "absent" && !seen[u.Password.Key] {
			seen[u.Password.Key] = true
			out = append(out, u.Password)
		}
	}
	// Passwords in secondary user store files.
	out = append(out, p.secondarySecrets()...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func secretKind(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "token"):
		return "token"
	case strings.HasSuffix(k, ".key") || strings.Contains(k, "secret") || strings.Contains(k, "symmetric"):
		return "key"
	}
	return "password"
}

func (p *product) secureVault() facts.SecureVault {
	sv := facts.SecureVault{Entries: []facts.Secret{}}
	for _, k := range p.cfg.WithPrefix("secrets") {
		e, _ := p.cfg.Entry(k)
		if e.Layer != tomlcfg.User {
			continue
		}
		val := strings.TrimSpace(tomlcfg.String(e.Value))
		s := facts.Secret{Key: k, Kind: "password", Origin: p.origin(e), Resolved: true}
		switch {
		case val == "":
			s.Form = "empty"
		case strings.HasPrefix(val, "[") && strings.HasSuffix(val, "]"):
			// Written as [plain] for ciphertool to encrypt: not yet done.
			s.Form = "plain"
			s.KnownDefault = p.kb.KnownDefaultSecret(val[1 : len(val)-1])
		default:
			s.Form = "encrypted"
		}
		sv.Entries = append(sv.Entries, s)
	}
	sv.Configured = len(sv.Entries) > 0
	return sv
}

func (p *product) superAdmin() facts.SuperAdmin {
	sa := facts.SuperAdmin{
		Username: p.setting("super_admin.username"),
		Password: p.secret("super_admin.password", "password"),
	}
	if b, ok := p.boolean("super_admin.create_admin_account"); ok {
		sa.CreateAdminAccount = b
	}
	return sa
}

// listUsers reads MI's internal API users ([[internal_apis.users]] or the
// default.json list).
func (p *product) listUsers() []facts.User {
	var out []facts.User
	e, ok := p.cfg.Entry("internal_apis.users")
	if !ok {
		return nil
	}
	list, _ := e.Value.([]any)
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		name := tomlcfg.String(m["user.name"])
		pw := tomlcfg.String(m["user.password"])
		base := "internal_apis.users[" + itoa(i) + "]"
		o := p.origin(e)
		if le, ok := p.cfg.Entry(base + ".user.password"); ok {
			o = p.origin(le)
		}
		u := facts.User{
			Username: facts.Setting{Key: base + ".user.name", Value: name, Set: name != "", Origin: o},
			Password: facts.Secret{Key: base + ".user.password", Kind: "password", Origin: o},
		}
		if _, has := m["user.password"]; !has {
			u.Password.Form = "absent"
		} else {
			p.classify(&u.Password, strings.TrimSpace(pw), 0)
		}
		out = append(out, u)
	}
	return out
}

// systemAccounts are the user names the product uses for its own calls.
func (p *product) systemAccounts() []facts.Setting {
	var out []facts.Setting
	systemAccount := p.kb.SystemAccount()
	for _, k := range p.cfg.Keys() {
		if !systemAccount.MatchString(k) {
			continue
		}
		e, _ := p.cfg.Entry(k)
		if e.Layer <= tomlcfg.Default {
			continue
		}
		s := p.setting(k)
		if s.Value == "" {
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *product) appAuth() facts.AppAuth {
	a := facts.AppAuth{
		Password: p.secret("identity.auth_framework.endpoint.app_password", "password"),
		Hash:     p.setting("account_recovery.endpoint.auth.hash"),
	}
	if a.Password.Form == "plain" && a.Hash.Set {
		pw, _ := p.raw("identity.auth_framework.endpoint.app_password")
		sum := sha256.Sum256([]byte(pw))
		a.HashVerifiable = true
		a.HashMatches = strings.EqualFold(hex.EncodeToString(sum[:]), strings.TrimSpace(a.Hash.Value))
	}
	return a
}

// encryption reports the internal encryption key when the product uses
// it: a symmetric-key crypto provider, or a key the user wrote.
func (p *product) encryption() facts.Encryption {
	enc := facts.Encryption{Provider: p.setting("encryption.internal_crypto_provider")}
	e, ok := p.cfg.Entry("encryption.key")
	if ok && (p.symmetricEncryption() || e.Layer > tomlcfg.Default) {
		enc.Key = p.secret("encryption.key", "key")
	} else {
		enc.Key = facts.Secret{Key: "encryption.key", Kind: "key", Form: "absent"}
	}
	return enc
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func (p *product) symmetricEncryption() bool {
	v, _ := p.raw("encryption.internal_crypto_provider")
	return strings.Contains(v, p.kb.Secrets.SymmetricProvider)
}

// isSecretKey: whether the last part of key names a secret
// (products.yaml secrets.key_segment). It is narrower than
// facts.IsSecretKey (which also matches "passthru" and "PasswordDigest"):
// the collector decides which values it describes as secrets with it;
// redaction of the settings map still uses the broad one.
func (p *product) isSecretKey(key string) bool { return isSecretKey(p.kb, key) }

func isSecretKey(kb *wso2kb.Layout, key string) bool {
	last := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 && !strings.HasSuffix(key, "'") {
		last = key[i+1:]
	} else if strings.HasSuffix(key, "'") {
		if j := strings.LastIndex(key[:len(key)-1], "'"); j >= 0 {
			last = key[j:]
		}
	}
	// Every name the pattern accepts ends in one of the key_suffixes; most
	// keys end otherwise, and the suffix test is far cheaper than the
	// regular expression over the ~2,000 keys of a configuration.
	if !hasSuffixFold(strings.TrimSuffix(last, "'"), kb.Secrets.KeySuffixes) {
		return false
	}
	return kb.SecretKeySegment().MatchString(last)
}

func hasSuffixFold(s string, suffixes []string) bool {
	for _, suf := range suffixes {
		if len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf) {
			return true
		}
	}
	return false
}
