package keystore

import (
	"slices"
	"testing"
)

// FuzzOpen: whatever the bytes, opening never panics, and what it returns
// holds together: a store opened with the password is of the format its
// first bytes say and was checked with it; one read without the password
// says it was not checked; both list the same entries in the same order;
// every entry has an alias and a known kind, and carries either its
// certificates or the reason it has none. Seeds (testdata/fuzz/FuzzOpen):
// a JKS and a PKCS#12 store made with keytool for this test (an EC key
// entry and a trusted certificate, password wso2carbon), the head of a
// product's PKCS#12 store and a truncated JKS.
func FuzzOpen(f *testing.F) {
	f.Add([]byte{0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		opened, err := Open(data, "wso2carbon")
		if err == nil {
			format, serr := Sniff(data)
			if serr != nil || opened.Format != format {
				t.Fatalf("opened as %q, sniffed as %q (%v)", opened.Format, format, serr)
			}
			if opened.Format == FormatJKS && !opened.PasswordChecked {
				t.Fatal("a JKS store opened without its digest checked")
			}
			checkEntries(t, opened)
		}
		unverified, uerr := ReadUnverified(data)
		if uerr != nil {
			return
		}
		if unverified.PasswordChecked {
			t.Fatal("read without a password, yet marked checked")
		}
		checkEntries(t, unverified)
		if err == nil {
			a, b := entryKeys(opened), entryKeys(unverified)
			if !slices.Equal(a, b) {
				t.Fatalf("opened with the password: %v; read without: %v", a, b)
			}
		}
	})
}

func checkEntries(t *testing.T, st *Store) {
	t.Helper()
	for i, e := range st.Entries {
		if e.Kind != KindPrivateKey && e.Kind != KindTrustedCert {
			t.Fatalf("entry %d (%q): kind %q", i, e.Alias, e.Kind)
		}
		if len(e.Chain) == 0 && e.Error == "" {
			t.Fatalf("entry %d (%q): no certificate and no reason", i, e.Alias)
		}
		if slices.ContainsFunc(e.Chain, func(c []byte) bool { return len(c) == 0 }) {
			t.Fatalf("entry %d (%q): an empty certificate in its chain", i, e.Alias)
		}
	}
}

func entryKeys(st *Store) []string {
	var out []string
	for _, e := range st.Entries {
		out = append(out, e.Kind+" "+e.Alias)
	}
	return out
}
