package wso2fix

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
)

// certValidity is how long a self-signed certificate rampart makes is
// valid: the longest public CAs issue, so renewal stays a habit.
const certValidity = 397 * 24 * time.Hour

func defaultCert(ks facts.Keystore) bool {
	for _, e := range ks.Entries {
		if e.Kind == "private_key" && (e.Certificate.WSO2Default || e.Alias == "wso2carbon") {
			return true
		}
	}
	return false
}

// keystores replaces WSO2's default keystores with a new PKCS#12 store
// for the product's host name (KEY-001), with new passwords kept only in
// Secure Vault (KEY-007), and rewrites the truststore without the public
// default certificate, trusting the new one instead (KEY-004).
func (p *planner) keystores() {
	k1, k4, k7 := p.fails("KEY-001"), p.fails("KEY-004"), p.fails("KEY-007")
	k23 := p.fails("KEY-002") || p.fails("KEY-003")
	if !k1 && !k4 && !k7 && !k23 {
		return
	}
	var replace []facts.Keystore
	var trust *facts.Keystore
	for i, ks := range p.prod.Keystores {
		if ks.Role == "truststore" {
			trust = &p.prod.Keystores[i]
			continue
		}
		defPw := ks.Password.KnownDefault || ks.KeyPassword.KnownDefault
		switch {
		case defaultCert(ks) && (k1 || k23 || (k7 && defPw)):
			replace = append(replace, ks)
		case k7 && defPw && !ks.Opened:
			p.manual("KEY-007", fmt.Sprintf("the %s keystore %s cannot be read here (%s): change its password where it is (keytool -storepasswd, -keypasswd), then put the new one in Secure Vault", ks.Role, ks.File, ks.Error))
		case k7 && defPw:
			p.manual("KEY-007", fmt.Sprintf("the %s keystore %s has its own certificate but the default password: change it with keytool -storepasswd and -keypasswd, then put the new one in Secure Vault", ks.Role, ks.File))
		}
	}
	host := p.publicHost()
	if len(replace) > 0 && host == "" {
		for _, r := range []string{"KEY-001", "KEY-004", "KEY-007"} {
			if p.fails(r) {
				p.needs(r, "a new keystore needs the host name its certificate is for", p.hostInput())
			}
		}
		return
	}
	tag := strings.Join(failingOf(p, "KEY-001", "KEY-004", "KEY-007"), ",")

	keyed := 0
	for _, ks := range p.prod.Keystores {
		if ks.Role != "truststore" {
			keyed++
		}
	}
	p.replacedAll = len(replace) > 0 && len(replace) == keyed
	var newCerts []newCert
	if len(replace) > 0 {
		nc, err := p.newKeystore(host, replace, tag)
		if err != nil {
			for _, r := range []string{"KEY-001", "KEY-007"} {
				if p.fails(r) {
					p.failed(r, err)
				}
			}
			return
		}
		newCerts = nc
	}
	if trust != nil && (k4 || len(newCerts) > 0 || (k7 && trust.Password.KnownDefault)) {
		if err := p.truststore(*trust, newCerts, tag); err != nil {
			var m errMissing
			for _, r := range []string{"KEY-004", "KEY-007"} {
				if !p.fails(r) {
					continue
				}
				if errors.As(err, &m) {
					p.manual(r, err.Error())
				} else {
					p.failed(r, err)
				}
			}
		}
	} else if k4 {
		p.manual("KEY-004", "no truststore is configured to clean")
	}
}

func failingOf(p *planner, rules ...string) []string {
	var out []string
	for _, r := range rules {
		if p.fails(r) {
			out = append(out, r)
		}
	}
	return out
}

type newCert struct {
	alias string
	der   []byte
}

// label names the new store and its entry after the host's first label.
func label(host string) string {
	if _, err := netip.ParseAddr(host); err == nil {
		return "server"
	}
	l := strings.ToLower(strings.SplitN(host, ".", 2)[0])
	l = strings.Trim(collapseRuns(l, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }, '-'), "-")
	if l == "" || l == "wso2carbon" || l == "client-truststore" {
		return "server"
	}
	return l
}

// newKeystore writes a PKCS#12 store with a new key pair and points the
// replaced keystore settings at it. The primary and internal keys stay
// RSA (they sign tokens and encrypt Secure Vault's secrets); with
// --key-type ec the TLS keystore gets an EC P-256 key of its own.
func (p *planner) newKeystore(host string, replace []facts.Keystore, tag string) ([]newCert, error) {
	base := label(host)
	file := "repository/resources/security/" + base + ".p12"
	if p.ws.Exists(file) {
		file = "repository/resources/security/" + base + "-rampart.p12"
	}
	req := keygen.CertRequest{Hostname: host, NotBefore: p.opt.Now, Validity: certValidity}
	rsaKey, err := p.opt.Keys.Key(keygen.RSA3072)
	if err != nil {
		return nil, err
	}
	rsaCert, err := keygen.SelfSigned(p.opt.Rand, rsaKey, req)
	if err != nil {
		return nil, err
	}
	entries := []keygen.KeyEntry{{Alias: base, Key: rsaKey, Chain: [][]byte{rsaCert}}}
	certs := []newCert{{alias: base, der: rsaCert}}
	tlsAlias := base
	hasTLS := false
	for _, ks := range replace {
		hasTLS = hasTLS || ks.Role == "tls"
	}
	ecNote := ""
	if p.opt.KeyType == keygen.ECP256 {
		if hasTLS {
			ecKey, err := p.opt.Keys.Key(keygen.ECP256)
			if err != nil {
				return nil, err
			}
			ecCert, err := keygen.SelfSigned(p.opt.Rand, ecKey, req)
			if err != nil {
				return nil, err
			}
			tlsAlias = base + "-ec"
			entries = append(entries, keygen.KeyEntry{Alias: tlsAlias, Key: ecKey, Chain: [][]byte{ecCert}})
			certs = append(certs, newCert{alias: tlsAlias, der: ecCert})
		} else {
			ecNote = "the product serves TLS with its primary key, which also signs tokens and encrypts Secure Vault's secrets, so it stays RSA 3072"
		}
	}
	pw, err := keygen.Password(p.opt.Rand, 24)
	if err != nil {
		return nil, err
	}
	p12, err := keygen.EncodePKCS12(p.opt.Rand, entries, nil, pw)
	if err != nil {
		return nil, err
	}
	var desc []string
	for _, e := range entries {
		desc = append(desc, fmt.Sprintf("%s (%s, SHA-256 %s…)", e.Alias, keyDesc(e.Key), keygen.Fingerprint(e.Chain[0])[:16]))
	}
	summary := fmt.Sprintf("new PKCS#12 keystore: %s, self-signed for CN=%s, valid until %s", strings.Join(desc, ", "), host, p.opt.Now.UTC().Add(certValidity).Format("2006-01-02"))
	// Secure Vault encrypts with the internal keystore when deployment.toml
	// configures one, else with the primary: the new RSA key, when that
	// store is one replaced here.
	vaultRole := "keystore.primary"
	if _, _, ok := p.doc.Lookup("keystore.internal.file_name"); ok {
		vaultRole = "keystore.internal"
	}
	for _, ks := range replace {
		if "keystore."+ks.Role == vaultRole {
			c, _ := x509.ParseCertificate(rsaCert)
			p.vault = &vaultKey{cert: c, path: file, typ: "PKCS12", alias: base}
		}
	}
	ref, why := p.secret("keystore_password", pw, tag)
	if why != nil {
		return nil, errors.New(why.text)
	}
	if err := p.ws.Write(file, p12, 0o600, true, tag, summary); err != nil {
		return nil, err
	}
	var todo []string
	if p.opt.CSR {
		for _, e := range entries {
			csr, err := keygen.CSR(p.opt.Rand, e.Key.(crypto.Signer), req)
			if err != nil {
				return nil, err
			}
			cf := strings.TrimSuffix(file, ".p12") + csrSuffix(e.Alias, base)
			if err := p.ws.Write(cf, csr, 0o644, false, tag, "certificate signing request for "+e.Alias); err != nil {
				return nil, err
			}
			todo = append(todo, fmt.Sprintf("have %s signed by your CA, then import the chain: keytool -importcert -alias %s -file signed-chain.pem -keystore %s -storetype PKCS12", cf, e.Alias, file))
		}
	} else {
		todo = append(todo, "the certificate is self-signed: replace it with one your CA issues (rampart fix --csr writes a signing request) or trust it where clients connect")
	}
	name := path.Base(file)
	var tables []string
	for _, ks := range replace {
		prefix := "keystore." + ks.Role
		if ks.Role != "primary" && p.followsPrimary(prefix) {
			continue
		}
		cur, _ := p.raw(prefix + ".file_name")
		fn := name
		if strings.Contains(cur, "/") {
			fn = file
		}
		alias := base
		if ks.Role == "tls" {
			alias = tlsAlias
		}
		p.setKey(prefix+".file_name", fn, tag)
		p.setKey(prefix+".type", "PKCS12", tag)
		p.setKey(prefix+".password", ref, tag)
		p.setKey(prefix+".alias", alias, tag)
		p.setKey(prefix+".key_password", ref, tag)
		p.handled[prefix+".password"] = tag
		p.handled[prefix+".key_password"] = tag
		tables = append(tables, "["+prefix+"]")
	}
	p.reveals = append(p.reveals, revealOf(p, "password of the new keystore "+file, pw))
	text := fmt.Sprintf("%s; %s point at it", summary, strings.Join(tables, ", "))
	internalTodo := ""
	for _, ks := range replace {
		if ks.Role == "internal" || (ks.Role == "primary" && p.followsPrimary("keystore.internal")) {
			internalTodo = "data the product already encrypted with the old internal key (an existing database) must be re-encrypted with WSO2's key rotation tool before the new key takes over"
		}
	}
	if internalTodo != "" {
		todo = append(todo, internalTodo)
	}
	if p.fails("KEY-001") {
		p.fixed("KEY-001", text, todo...)
		if ecNote != "" {
			p.add("KEY-001", part{text: ecNote})
		}
	}
	if p.fails("KEY-007") {
		p.fixed("KEY-007", "the new keystore's password is random and kept only in Secure Vault ("+strings.Join(tables, ", ")+")")
	}
	return certs, nil
}

func csrSuffix(alias, base string) string {
	if alias == base {
		return ".csr"
	}
	return strings.TrimPrefix(alias, base) + ".csr"
}

func keyDesc(k any) string {
	if r, ok := k.(*rsa.PrivateKey); ok {
		return fmt.Sprintf("RSA %d", r.N.BitLen())
	}
	return "EC P-256"
}

// followsPrimary reports whether a keystore's settings are the primary
// keystore's by reference (IS 7 and others ship internal and tls as
// $ref{keystore.primary.*} unless deployment.toml writes them).
func (p *planner) followsPrimary(prefix string) bool {
	e, ok := p.eff.Config.Entry(prefix + ".file_name")
	if !ok {
		return true
	}
	s, _ := e.Value.(string)
	return strings.HasPrefix(strings.TrimSpace(s), "$ref{keystore.primary.")
}

// truststore rewrites the truststore: WSO2's default certificates out, the
// new ones in, a new password when the old one is the public default.
func (p *planner) truststore(ts facts.Keystore, add []newCert, tag string) error {
	pw, ok := p.raw("truststore.password")
	if !ok || pw == "" || strings.HasPrefix(pw, "$") {
		return fmt.Errorf("the truststore %s cannot be opened: its password is not in the files (%q)", ts.File, pw)
	}
	b, err := p.ws.Read(ts.File)
	if errors.Is(err, fs.ErrNotExist) {
		return errMissing{fmt.Errorf("the truststore %s is not here (mounted at run time?): clean it where it is (keytool -delete -alias wso2carbon)", ts.File)}
	}
	if err != nil {
		return fmt.Errorf("the truststore %s: %w", ts.File, err)
	}
	store, err := keygen.ReadTrustStore(b, pw)
	if err != nil {
		return fmt.Errorf("the truststore %s cannot be opened: %w", ts.File, err)
	}
	removed := store.RemoveWSO2Defaults()
	var added []string
	for _, c := range add {
		if !store.Has(c.der) {
			store.Add(c.alias, c.der, p.opt.Now)
			added = append(added, c.alias)
		}
	}
	newPw := pw
	if ts.Password.KnownDefault {
		if newPw, err = keygen.Password(p.opt.Rand, 24); err != nil {
			return err
		}
	}
	out, err := store.Encode(p.opt.Rand, newPw, p.opt.Now)
	if err != nil {
		return fmt.Errorf("the truststore %s: %w", ts.File, err)
	}
	var what []string
	if len(removed) > 0 {
		what = append(what, "removed WSO2's default certificate ("+strings.Join(removed, ", ")+")")
	}
	if len(added) > 0 {
		what = append(what, "trusts "+strings.Join(added, ", "))
	}
	if newPw != pw {
		what = append(what, "new password")
	}
	summary := fmt.Sprintf("%s truststore, %d certificates: %s", store.Format, len(store.Certs), strings.Join(what, "; "))
	if store.Renamed {
		summary += "; its certificates are named by subject (keytool's PKCS#12 keeps the old aliases in RC2-encrypted bags rampart does not decrypt)"
	}
	ref := ""
	if newPw != pw {
		var why *part
		if ref, why = p.secret("truststore_password", newPw, tag); why != nil {
			return errors.New(why.text)
		}
	}
	if err := p.ws.Write(ts.File, out, 0o644, true, tag, summary); err != nil {
		return err
	}
	if newPw != pw {
		p.setKey("truststore.password", ref, tag)
		p.handled["truststore.password"] = tag
		p.reveals = append(p.reveals, revealOf(p, "password of the truststore "+ts.File, newPw))
	}
	if p.fails("KEY-004") {
		p.fixed("KEY-004", ts.File+": "+strings.Join(what, "; "))
	}
	if p.fails("KEY-007") && newPw != pw {
		p.fixed("KEY-007", "the truststore's password is random and kept only in Secure Vault ([truststore] password)")
	}
	return nil
}

// errMissing is a store that is not in the home: its fix is manual.
type errMissing struct{ error }

func (e errMissing) Unwrap() error { return e.error }
