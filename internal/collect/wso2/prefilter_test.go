package wso2

import (
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// TestPrefiltersChangeNothing: the cheap word tests in front of the secret
// and verification-off patterns give the same answers as the patterns
// alone, over every key of every fixture and some written by hand.
func TestPrefiltersChangeNothing(t *testing.T) {
	keys := []string{"a.password", "x.ConnectionPassword", "y.'api_key'", "z.PWD", "t.auth_token", "k.key", "tokens.x",
		"p.passthru", "s.secret_key", "enable.hostname.verification", "a.TrustAllCertificates", "a.skip_tls_verification",
		"b.insecure", "c.trust_all", "d.verify_hostname", "e.hostname_verification_enabled", "q.'http.insecure'", ""}
	for _, name := range fixtureNames(t) {
		h, err := openHome(filepath.Join(fixturesDir(t), name), nil)
		if err != nil {
			t.Fatal(err)
		}
		det, err := detect(h, "", wso2kb.Default())
		if err != nil {
			t.Fatal(err)
		}
		p, err := loadConfig(h, det)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.cfg.Keys()...)
		h.close()
	}
	kb, err := wso2kb.Default().Layout(ProfileIS, "")
	if err != nil {
		t.Fatal(err)
	}
	secretSegment, offWhenFalse, offWhenTrue := kb.SecretKeySegment(), kb.OffWhenFalse(), kb.OffWhenTrue()
	for _, k := range keys {
		last := k
		for i := len(k) - 1; i >= 0; i-- {
			if k[i] == '.' {
				last = k[i+1:]
				break
			}
		}
		if len(k) > 0 && k[len(k)-1] == '\'' {
			continue // quoted segments: covered by isSecretKey's own test below
		}
		if got, want := isSecretKey(kb, k), secretSegment.MatchString(last); got != want {
			t.Errorf("isSecretKey(%q) = %v, the pattern says %v", k, got, want)
		}
		pre := false
		for _, w := range kb.OutboundVerification.KeyWords {
			pre = pre || containsFold(k, w)
		}
		if !pre && (offWhenFalse.MatchString(k) || offWhenTrue.MatchString(k)) {
			t.Errorf("%q matches a verification-off pattern but not the prefilter", k)
		}
	}
	if !isSecretKey(kb, "transport.http.'keystore.password'") || isSecretKey(kb, "transport.http.'keystore.alias'") {
		t.Error("quoted segments")
	}
}
