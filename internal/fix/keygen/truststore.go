package keygen

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
)

// TrustStore is a truststore's trusted certificates.
type TrustStore struct {
	Format string // keystore.FormatJKS or keystore.FormatPKCS12
	Certs  []TrustedCert
	// created keeps JKS entries' creation times.
	created map[string]time.Time
	// Renamed says the aliases were derived from the subjects: a PKCS#12
	// store written by keytool keeps them in RC2-encrypted bags, which
	// are decrypted here only as far as their certificates.
	Renamed bool
}

// ErrWrongPassword means the password does not open the store.
var ErrWrongPassword = errors.New("the configured password does not open it")

// ReadTrustStore opens a JKS or PKCS#12 truststore with its password.
func ReadTrustStore(data []byte, password string) (*TrustStore, error) {
	format, err := keystore.Sniff(data)
	if err != nil {
		return nil, err
	}
	switch format {
	case keystore.FormatJKS:
		ks := jks.New(jks.WithOrderedAliases())
		if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
			if strings.Contains(err.Error(), "digest") || strings.Contains(err.Error(), "password") {
				return nil, ErrWrongPassword
			}
			return nil, fmt.Errorf("JKS: %w", err)
		}
		t := &TrustStore{Format: format, created: map[string]time.Time{}}
		for _, a := range ks.Aliases() {
			if !ks.IsTrustedCertificateEntry(a) {
				return nil, fmt.Errorf("entry %q holds a private key: a truststore with key entries is not rewritten automatically", a)
			}
			e, err := ks.GetTrustedCertificateEntry(a)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", a, err)
			}
			t.Certs = append(t.Certs, TrustedCert{Alias: a, DER: e.Certificate.Content})
			t.created[a] = e.CreationTime
		}
		return t, nil
	case keystore.FormatPKCS12:
		plain, ok, err := plainPKCS12(data, password)
		if err != nil {
			return nil, err
		}
		if ok {
			return &TrustStore{Format: format, Certs: plain}, nil
		}
		certs, err := pkcs12.DecodeTrustStore(data, password)
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return nil, ErrWrongPassword
			}
			return nil, fmt.Errorf("PKCS#12: %w", err)
		}
		t := &TrustStore{Format: format, Renamed: true}
		used := map[string]bool{}
		for _, c := range certs {
			t.Certs = append(t.Certs, TrustedCert{Alias: uniqueAlias(aliasFor(c), used), DER: c.Raw})
		}
		return t, nil
	}
	return nil, fmt.Errorf("%s truststores are not supported", format)
}

// aliasFor names a certificate by its subject, as keytool users do.
func aliasFor(c *x509.Certificate) string {
	n := c.Subject.CommonName
	if n == "" && len(c.Subject.OrganizationalUnit) > 0 {
		n = c.Subject.OrganizationalUnit[0]
	}
	if n == "" && len(c.Subject.Organization) > 0 {
		n = c.Subject.Organization[0]
	}
	n = strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(n)), "-.")
	if n == "" {
		n = "cert"
	}
	return n
}

func uniqueAlias(a string, used map[string]bool) string {
	base, n := a, 1
	for used[a] {
		n++
		a = fmt.Sprintf("%s-%d", base, n)
	}
	used[a] = true
	return a
}

// RemoveWSO2Defaults drops every certificate WSO2 ships in its default
// keystores (by fingerprint, or CN=localhost, O=WSO2 subject) and returns
// the aliases removed.
func (t *TrustStore) RemoveWSO2Defaults() []string {
	var kept []TrustedCert
	var removed []string
	for _, c := range t.Certs {
		if isWSO2Default(c.DER) {
			removed = append(removed, c.Alias)
			continue
		}
		kept = append(kept, c)
	}
	t.Certs = kept
	return removed
}

func isWSO2Default(der []byte) bool {
	if certinfo.IsKnownWSO2Fingerprint(Fingerprint(der)) {
		return true
	}
	// Every shipped default names WSO2 in its subject: parse only those.
	if !bytes.Contains(der, []byte("WSO2")) {
		return false
	}
	c, err := x509.ParseCertificate(der)
	return err == nil && certinfo.IsWSO2Default(c)
}

// Has reports whether the store trusts the certificate already.
func (t *TrustStore) Has(der []byte) bool {
	for _, c := range t.Certs {
		if bytes.Equal(c.DER, der) {
			return true
		}
	}
	return false
}

// Add trusts a certificate under alias (replacing an entry of that alias).
func (t *TrustStore) Add(alias string, der []byte, now time.Time) {
	for i, c := range t.Certs {
		if strings.EqualFold(c.Alias, alias) {
			t.Certs[i].DER = der
			return
		}
	}
	t.Certs = append(t.Certs, TrustedCert{Alias: alias, DER: der})
	if t.created == nil {
		t.created = map[string]time.Time{}
	}
	t.created[strings.ToLower(alias)] = now
}

// Encode writes the store in its own format with a new password.
func (t *TrustStore) Encode(rnd io.Reader, password string, now time.Time) ([]byte, error) {
	switch t.Format {
	case keystore.FormatJKS:
		ks := jks.New(jks.WithOrderedAliases(), jks.WithCustomRandomNumberGenerator(rnd))
		for _, c := range t.Certs {
			ct, ok := t.created[strings.ToLower(c.Alias)]
			if !ok || ct.IsZero() {
				ct = now
			}
			if err := ks.SetTrustedCertificateEntry(c.Alias, jks.TrustedCertificateEntry{CreationTime: ct, Certificate: jks.Certificate{Type: "X509", Content: c.DER}}); err != nil {
				return nil, fmt.Errorf("entry %q: %w", c.Alias, err)
			}
		}
		var buf bytes.Buffer
		if err := ks.Store(&buf, []byte(password)); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case keystore.FormatPKCS12:
		return EncodePKCS12(rnd, nil, t.Certs, password)
	}
	return nil, fmt.Errorf("%s truststores are not supported", t.Format)
}
