package keystore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func fixtureStores(t *testing.T) []string {
	t.Helper()
	root := testenv.WSO2Fixtures(t)
	var out []string
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && (strings.HasSuffix(p, ".jks") || strings.HasSuffix(p, ".p12")) {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatalf("no keystore under %s", root)
	}
	return out
}

// Every WSO2-subject certificate in the shipped stores has a fingerprint
// certinfo knows, and every store opens with the shipped password.
func TestFixtureStoresAndDefaultFingerprints(t *testing.T) {
	for _, p := range fixtureStores(t) {
		b, _ := os.ReadFile(p)
		st, err := Open(b, "wso2carbon")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		found := false
		for _, e := range st.Entries {
			for _, der := range e.Chain {
				c := certinfo.FromDER(der)
				if c.ParseError != "" {
					t.Errorf("%s %s: %s", p, e.Alias, c.ParseError)
				}
				if strings.Contains(c.Subject, "O=WSO2") && strings.Contains(c.Subject, "CN=localhost") {
					found = true
					sum := sha256.Sum256(der)
					if !certinfo.IsKnownWSO2Fingerprint(hex.EncodeToString(sum[:])) {
						t.Errorf("%s %s: fingerprint %x not in certinfo's list", p, e.Alias, sum)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no default certificate found", p)
		}
		if strings.Contains(p, "wso2carbon") {
			var key *Entry
			for i := range st.Entries {
				if st.Entries[i].Kind == KindPrivateKey {
					key = &st.Entries[i]
				}
			}
			if key == nil || key.Alias != "wso2carbon" || !strings.HasPrefix(certinfo.FromDER(key.Chain[0]).Subject, "CN=localhost") {
				t.Errorf("%s: private key entry = %+v", p, key)
			}
		}
	}
}

func TestWrongPassword(t *testing.T) {
	for _, p := range fixtureStores(t) {
		if strings.Contains(p, "apim-4.5.0") {
			continue // no MAC: any password opens it, as in Java
		}
		b, _ := os.ReadFile(p)
		if _, err := Open(b, "wrong"); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("%s: err = %v, want ErrWrongPassword", p, err)
		}
	}
}
