package wso2fix

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/vault"
)

// secretReq is a value to put into [secrets], encrypted.
type secretReq struct {
	alias string
	plain string
	rules []string
}

// vaultKey is the keystore entry Secure Vault encrypts with.
type vaultKey struct {
	cert *x509.Certificate
	// path is the keystore relative to the home; typ its type; alias the
	// entry.
	path, typ, alias string
	err              error
	// missing: the keystore file is not in the home.
	missing bool
}

// secret asks for plain to be stored under alias in [secrets] and returns
// the reference that replaces it. When no key to encrypt with is at hand,
// it returns why, as the part the calling fix records instead of making
// any edit.
func (p *planner) secret(alias, plain, rule string) (string, *part) {
	if _, why := p.vaultKey(); why != nil {
		return "", why
	}
	for _, s := range p.secrets {
		if s.alias == alias {
			if s.plain == plain {
				s.rules = appendOnce(s.rules, rule)
				return "$secret{" + alias + "}", nil
			}
			return p.secret(nextAlias(alias), plain, rule)
		}
	}
	// An alias the user's [secrets] already has is theirs.
	if _, _, ok := p.doc.Lookup("secrets." + alias); ok {
		return p.secret(nextAlias(alias), plain, rule)
	}
	p.secrets = append(p.secrets, &secretReq{alias: alias, plain: plain, rules: []string{rule}})
	return "$secret{" + alias + "}", nil
}

// vaultKey is the key Secure Vault encrypts with: a new keystore's, or the
// one the cipher tool would pick in the files. The part says why there is
// none.
func (p *planner) vaultKey() (*vaultKey, *part) {
	k := p.vault
	if k == nil {
		if p.existing == nil {
			p.existing = p.existingVaultKey()
		}
		k = p.existing
	}
	if k.err == nil {
		return k, nil
	}
	if k.missing {
		return nil, &part{status: fix.NeedsInput, text: "secrets cannot be encrypted: " + k.err.Error() + " (mounted at run time?): give the certificate of its key entry", inputs: []string{"--vault-cert FILE"}}
	}
	return nil, &part{status: fix.Failed, text: "secrets cannot be encrypted: " + k.err.Error()}
}

// nextAlias numbers an alias that is taken: secret -> secret_2 ->
// secret_3.
func nextAlias(a string) string {
	digits := len(a)
	for digits > 0 && a[digits-1] >= '0' && a[digits-1] <= '9' {
		digits--
	}
	if digits < len(a) && digits > 0 && a[digits-1] == '_' {
		n := 0
		fmt.Sscan(a[digits:], &n)
		return a[:digits-1] + fmt.Sprintf("_%d", n+1)
	}
	return a + "_2"
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// aliasFor names a secret after its key: database.identity_db.password ->
// database_identity_db_password.
func aliasFor(key string) string {
	return strings.Trim(collapseRuns(key, func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}, '_'), "_")
}

// collapseRuns replaces each run of bytes that keep refuses (any byte of a
// non-ASCII character among them) with one sep.
func collapseRuns(s string, keep func(byte) bool, sep byte) string {
	var b strings.Builder
	b.Grow(len(s))
	junk := false
	for i := 0; i < len(s); i++ {
		if keep(s[i]) {
			b.WriteByte(s[i])
			junk = false
			continue
		}
		if !junk {
			b.WriteByte(sep)
		}
		junk = true
	}
	return b.String()
}

// guardedBy names the rule that must replace a secret's public default
// value: encrypting the default itself would only hide it from that rule.
func guardedBy(key string) string {
	switch {
	case strings.HasPrefix(key, "keystore.") || key == "truststore.password":
		return "KEY-007"
	case key == "super_admin.password" || strings.HasPrefix(key, "internal_apis.users["):
		return "SEC-002"
	case key == "identity.auth_framework.endpoint.app_password":
		return "SEC-003"
	case key == "encryption.key":
		return "SEC-005"
	}
	return ""
}

// plainSecrets moves every secret still written in clear text into
// [secrets] (SEC-001, and SEC-005's "stored in clear text"). A secret
// whose value is WSO2's public default is not moved when another rule's
// fix replaces it with a new value (KEY-007 the keystore passwords, SEC-002
// the admin's): encrypting the default would only hide it. Such secrets
// stay in clear text until that fix is made, so the rule's status follows
// that fix's.
func (p *planner) plainSecrets() {
	rules := []string{}
	for _, r := range []string{"SEC-001", "SEC-005"} {
		if p.fails(r) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return
	}
	tag := strings.Join(rules, ",")
	var moved, defaults []string
	left := map[string][]string{} // guarding rule -> keys left for its fix
	for _, s := range p.prod.Secrets {
		if s.Form != "plain" {
			continue
		}
		if _, ok := p.handled[s.Key]; ok {
			continue
		}
		if s.KnownDefault {
			if g := guardedBy(s.Key); g != "" {
				if g == "KEY-007" && !p.fails(g) && p.fails("KEY-001") {
					g = "KEY-001" // its new keystore comes with new passwords
				}
				left[g] = append(left[g], s.Key)
				continue
			}
		}
		if pt := p.moveSecret(s, tag); pt != nil {
			for _, r := range rules {
				p.add(r, *pt)
			}
			continue
		}
		moved = append(moved, s.Key)
		if s.KnownDefault {
			defaults = append(defaults, s.Key)
		}
	}
	if len(moved) > 0 {
		var todo []string
		if len(defaults) > 0 {
			todo = append(todo, "still WSO2's shipped value, now only encrypted: "+strings.Join(defaults, ", ")+
				": change each password where it is used (the database, directory or service it logs in to), then put the new one in [secrets] with bin/ciphertool.sh")
		}
		for _, r := range rules {
			p.fixed(r, "moved into Secure Vault: "+strings.Join(moved, ", "), todo...)
		}
	}
	guards := make([]string, 0, len(left))
	for g := range left {
		guards = append(guards, g)
	}
	sort.Strings(guards)
	for _, g := range guards {
		pt := p.leftFor(g, left[g])
		for _, r := range rules {
			p.add(r, pt)
		}
	}
}

// leftFor is the part of SEC-001/SEC-005 for the public default secrets
// left in clear text for guard's fix to replace: its status is the one
// that fix has (they pass only once it is made).
func (p *planner) leftFor(guard string, keys []string) part {
	list := strings.Join(keys, ", ")
	what := "left in clear text: " + list + ": WSO2's public default values, for " + guard +
		"'s fix to replace with new random ones (encrypting a public default would only hide it)"
	if !p.fails(guard) {
		return part{status: fix.Manual, text: what + "; " + guard + " is not part of this run (--only/--skip): run rampart fix with " + guard + " as well"}
	}
	switch st, inputs := p.statusOf(guard); st {
	case fix.Fixed:
		// The guard's fix is made but does not cover these keys.
		return part{status: fix.Manual, text: "left in clear text: " + list + ": WSO2's public default values, which " + guard +
			"'s fix does not replace here: change them by hand, then put them in Secure Vault"}
	case fix.NeedsInput:
		return part{status: fix.NeedsInput, text: what + "; " + guard + "'s fix needs the input below", inputs: inputs}
	case fix.Failed:
		return part{status: fix.Manual, text: what + "; " + guard + "'s fix could not be made: see it"}
	default:
		return part{status: fix.Manual, text: what + "; " + guard + " has no automatic fix here: see it"}
	}
}

// statusOf folds the parts recorded so far for rule: the worst status
// and every input asked for.
func (p *planner) statusOf(rule string) (fix.Status, []string) {
	var st fix.Status
	var inputs []string
	if r := p.results[rule]; r != nil {
		for _, pt := range r.parts {
			if pt.status != "" && (st == "" || rank(pt.status) > rank(st)) {
				st = pt.status
			}
			for _, i := range pt.inputs {
				inputs = appendOnce(inputs, i)
			}
		}
	}
	if st == "" {
		st = fix.Manual
	}
	return st, inputs
}

// moveSecret replaces a plain secret with a $secret{} reference where it
// is written, or adds the reference under its key when only the shipped
// defaults (or an inference) give it.
func (p *planner) moveSecret(s facts.Secret, rule string) *part {
	manual := func(format string, a ...any) *part {
		return &part{status: fix.Manual, text: fmt.Sprintf(format, a...)}
	}
	if s.Origin.File != "" && s.Origin.File != p.eff.ConfigFile && !strings.HasSuffix(s.Origin.File, "default.json") {
		return manual("%s in %s: encrypt it with the product's user store cipher tool (its password sits outside deployment.toml)", s.Key, s.Origin.File)
	}
	if strings.HasPrefix(s.Key, "internal_apis.users[") {
		return manual("%s: a management user's password is replaced by SEC-002's fix", s.Key)
	}
	plain, ok := p.raw(s.Key)
	if !ok {
		return manual("%s: its value cannot be read", s.Key)
	}
	// The alias is named after the key as written (or as users write it).
	name := p.userKey(s.Key)
	if line, ok := p.doc.LineOf(s.Key); ok {
		if k, ok := p.doc.KeyAt(line); ok {
			name = k
		}
	}
	ref, why := p.secret(aliasFor(name), plain, rule)
	if why != nil {
		return why
	}
	p.setKey(s.Key, ref, rule)
	p.handled[s.Key] = rule
	return nil
}

// encryptionKey replaces the internal symmetric key when it is the public
// default or written in clear text (SEC-005).
func (p *planner) encryptionKey() {
	const rule = "SEC-005"
	if !p.fails(rule) {
		return
	}
	k := p.prod.Encryption.Key
	if k.Form != "plain" {
		return
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(p.opt.Rand, b); err != nil {
		p.failed(rule, err)
		return
	}
	ref, why := p.secret("symmetric_key", strings.ToUpper(hex.EncodeToString(b)), rule)
	if why != nil {
		p.add(rule, *why)
		return
	}
	p.setKey("encryption.key", ref, rule)
	p.handled["encryption.key"] = rule
	p.fixed(rule, "new 128-bit internal encryption key, in Secure Vault ([encryption] key)",
		"data the product already encrypted with the old key (an existing database) must be re-encrypted with WSO2's key rotation tool before the new key takes over")
}

// finishSecrets encrypts every requested secret (and any [secrets] value
// still waiting for the cipher tool in brackets) with the Secure Vault
// key, writes them into [secrets], and writes secret-conf.properties as
// the cipher tool does.
func (p *planner) finishSecrets() {
	pending := p.pendingVaultEntries()
	if len(p.secrets) == 0 && len(pending) == 0 {
		return
	}
	rulesOf := func() []string {
		var rs []string
		for _, s := range p.secrets {
			for _, r := range s.rules {
				// A secret moved for several rules carries them joined.
				for _, one := range strings.Split(r, ",") {
					rs = appendOnce(rs, one)
				}
			}
		}
		for _, e := range pending {
			rs = appendOnce(rs, e.rule)
		}
		sort.Strings(rs)
		return rs
	}
	fail := func(err error) {
		for _, r := range rulesOf() {
			p.failed(r, fmt.Errorf("secrets cannot be encrypted: %w", err))
		}
	}
	key, why := p.vaultKey()
	if why != nil {
		for _, r := range rulesOf() {
			p.add(r, *why)
		}
		return
	}
	transformation := vault.DefaultTransformation
	note := ""
	if t, ok := p.raw("system.parameter.'org.wso2.CipherTransformation'"); ok && strings.TrimSpace(t) != "" {
		if vault.CheckTransformation(t) == nil {
			transformation = strings.TrimSpace(t)
		} else {
			note = fmt.Sprintf("org.wso2.CipherTransformation is %s (the product's internal data cipher); Secure Vault's asymmetric mode uses %s, written to secret-conf.properties", t, vault.DefaultTransformation)
		}
	}
	enc, err := vault.New(key.cert.PublicKey, transformation, p.opt.Rand)
	if err != nil {
		fail(err)
		return
	}
	for _, s := range p.secrets {
		ct, err := enc.Encrypt(s.plain)
		if err != nil {
			fail(err)
			return
		}
		p.doc.Set("secrets", s.alias, ct, strings.Join(s.rules, ","))
	}
	for _, e := range pending {
		ct, err := enc.Encrypt(e.plain)
		if err != nil {
			fail(err)
			return
		}
		p.doc.Set("secrets", e.alias, ct, e.rule)
	}
	if len(pending) > 0 && p.fails("SEC-005") {
		names := make([]string, len(pending))
		for i, e := range pending {
			names[i] = e.alias
		}
		p.fixed("SEC-005", "encrypted the [secrets] values waiting in brackets: "+strings.Join(names, ", "))
	}
	// secret-conf.properties, as ciphertool -Dconfigure writes it.
	secDir := path.Join(p.conf, "security")
	conf, err := p.ws.Props(path.Join(secDir, "secret-conf.properties"))
	if err != nil {
		fail(err)
		return
	}
	loc := path.Join(p.home(), key.path)
	cipherText := path.Join(secDir, "cipher-text.properties")
	for _, kv := range vault.SecretConf(cipherText, loc, key.typ, key.alias, transformation) {
		conf.Set(kv.Key, kv.Value, strings.Join(rulesOf(), ","))
	}
	todo := []string{"at start-up the product asks for the keystore password (" + key.path + "); give it on the console, or write it to " + path.Join(p.home(), "password-tmp") + " (read and deleted at start)"}
	for i, r := range rulesOf() {
		p.add(r, part{status: "", todo: todo})
		if note != "" && i == 0 {
			p.add(r, part{status: "", text: note})
		}
	}
}

type pendingEntry struct {
	alias, plain, rule string
}

// pendingVaultEntries are [secrets] values written as "[plain]" for the
// cipher tool, not yet encrypted (SEC-005 counts them).
func (p *planner) pendingVaultEntries() []pendingEntry {
	if !p.fails("SEC-005") && !p.fails("SEC-001") {
		return nil
	}
	var out []pendingEntry
	for _, k := range p.doc.Keys() {
		alias, ok := strings.CutPrefix(k, "secrets.")
		if !ok {
			continue
		}
		v, _, _ := p.doc.Lookup(k)
		s, _ := v.(string)
		i, j := strings.Index(s, "["), strings.LastIndex(s, "]")
		if i < 0 || j <= i+1 {
			continue
		}
		rule := "SEC-005"
		if !p.fails(rule) {
			rule = "SEC-001"
		}
		out = append(out, pendingEntry{alias: alias, plain: s[i+1 : j], rule: rule})
	}
	return out
}

// existingVaultKey finds the key the cipher tool would use: the internal
// keystore when deployment.toml configures one, else the primary.
func (p *planner) existingVaultKey() *vaultKey {
	role := "primary"
	if _, _, ok := p.doc.Lookup("keystore.internal.file_name"); ok {
		role = "internal"
	}
	prefix := "keystore." + role
	name, ok := p.raw(prefix + ".file_name")
	if !ok {
		return &vaultKey{err: fmt.Errorf("[%s] file_name is not configured", prefix)}
	}
	k := &vaultKey{path: p.security(name)}
	k.typ, _ = p.raw(prefix + ".type")
	k.alias, _ = p.raw(prefix + ".alias")
	if k.alias == "" {
		k.alias = "wso2carbon"
	}
	if p.opt.VaultCert != nil {
		k.cert = p.opt.VaultCert
		if k.typ == "" {
			k.typ = "JKS"
		}
		return k
	}
	b, err := p.ws.Read(k.path)
	if err != nil {
		k.missing = errors.Is(err, fs.ErrNotExist)
		k.err = fmt.Errorf("the %s keystore %s is not here", role, k.path)
		if !k.missing {
			k.err = fmt.Errorf("the %s keystore: %w", role, err)
		}
		return k
	}
	pw, _ := p.raw(prefix + ".password")
	var st *keystore.Store
	if strings.HasPrefix(pw, "$") || pw == "" {
		st, err = keystore.ReadUnverified(b)
		if err != nil {
			k.err = fmt.Errorf("the %s keystore %s: its password is not in the files (%s) and %w", role, k.path, pw, err)
			return k
		}
	} else if st, err = keystore.Open(b, pw); err != nil {
		if errors.Is(err, keystore.ErrWrongPassword) {
			err = errors.New("the configured password does not open it")
		}
		k.err = fmt.Errorf("the %s keystore %s: %w", role, k.path, err)
		return k
	}
	if k.typ == "" {
		k.typ = st.Format
	}
	for _, e := range st.Entries {
		if strings.EqualFold(e.Alias, k.alias) && e.Kind == keystore.KindPrivateKey && len(e.Chain) > 0 {
			// Entries carry DER: the key's certificate must parse to encrypt with it.
			c, err := x509.ParseCertificate(e.Chain[0])
			if err != nil {
				k.err = fmt.Errorf("the %s keystore %s: the certificate of %q: %w", role, k.path, k.alias, err)
				return k
			}
			k.cert = c
			return k
		}
	}
	k.err = fmt.Errorf("the %s keystore %s has no key entry %q", role, k.path, k.alias)
	return k
}
