package wso2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// weakStoresCopy copies a fixture and adds the weak secondary user stores
// of testdata/userstores/weak.
func weakStoresCopy(t *testing.T, fixture string) string {
	t.Helper()
	dst := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), fixture), dst)
	copyTree(t, filepath.Join("testdata", "userstores", "weak"), filepath.Join(dst, secondaryStoresDir))
	return dst
}

func storeNamed(t *testing.T, p *facts.Product, name string) facts.UserStore {
	t.Helper()
	for _, u := range p.UserStores {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no user store %q in %+v", name, p.UserStores)
	return facts.UserStore{}
}

func secretNamed(t *testing.T, p *facts.Product, key string) facts.Secret {
	t.Helper()
	for _, s := range p.Secrets {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no secret %q", key)
	return facts.Secret{}
}

// TestWeakSecondaryStores: a read-write Active Directory store in clear
// LDAP bound as the administrator with a clear-text password, a JDBC
// store reaching MySQL as root without TLS, and a disabled store. IAM-001,
// IAM-002, TLS-014 and SEC-001 fail naming them; the disabled store only
// counts for its clear-text password.
func TestWeakSecondaryStores(t *testing.T) {
	for _, fixture := range []string{"is-7.1.0", "apim-4.1.0"} {
		t.Run(fixture, func(t *testing.T) {
			dir := weakStoresCopy(t, fixture)
			f, fs := scan(t, dir, target.Declared{})
			p := f.Product
			ad := storeNamed(t, p, "CORP.EXAMPLE.COM")
			wantFile := secondaryStoresDir + "/CORP_EXAMPLE_COM.xml"
			if !ad.External || ad.ReadOnly || ad.TLS || ad.Disabled || ad.Type != "active_directory_unique_id" ||
				ad.URL != "ldap://ad.corp.example.com:389" || !strings.HasPrefix(ad.ConnectionName, "CN=Administrator") ||
				ad.Origin.File != wantFile || ad.Origin.Line != 4 {
				t.Errorf("AD store = %+v", ad)
			}
			if ad.Password.Form != "plain" || !ad.Password.KnownDefault || ad.Password.Origin.File != wantFile || ad.Password.Origin.Line != 8 {
				t.Errorf("AD password = %+v", ad.Password)
			}
			old := storeNamed(t, p, "OLD.EXAMPLE.COM")
			if !old.Disabled || !old.External || old.ReadOnly {
				t.Errorf("disabled store = %+v", old)
			}
			jdbc := storeNamed(t, p, "PARTNERS")
			if jdbc.External || jdbc.Type != "database_unique_id" || jdbc.Password.Form != "absent" {
				t.Errorf("JDBC store = %+v", jdbc)
			}
			var db *facts.Datasource
			for i := range p.Datasources {
				if p.Datasources[i].Name == "user store PARTNERS" {
					db = &p.Datasources[i]
				}
			}
			if db == nil || db.Driver != "mysql" || db.Embedded || db.TLS || db.TLSParam != "useSSL=false" || db.Username != "root" ||
				db.Password.Form != "plain" || db.Password.KnownDefault || db.Origin.File != secondaryStoresDir+"/PARTNERS.xml" || db.Origin.Line != 6 {
				t.Errorf("JDBC store database = %+v", db)
			}
			secretNamed(t, p, "OLD_EXAMPLE_COM.xml ConnectionPassword")
			secretNamed(t, p, "PARTNERS.xml password")
			for _, s := range p.Secrets {
				if strings.Contains(s.Key, "Partners2024") {
					t.Errorf("a secret value leaked into a key: %q", s.Key)
				}
			}

			st := map[string]finding.Finding{}
			for _, fd := range fs {
				st[fd.RuleID] = fd
			}
			for id, want := range map[string][]string{
				"IAM-001": {"CORP.EXAMPLE.COM (active_directory_unique_id)"},
				"IAM-002": {"user store PARTNERS as root", "CORP.EXAMPLE.COM user store as CN=Administrator"},
				"TLS-014": {"user store PARTNERS (mysql, useSSL=false)", "CORP.EXAMPLE.COM user store (ldap://ad.corp.example.com:389)"},
				"SEC-001": {"CORP_EXAMPLE_COM.xml ConnectionPassword", "OLD_EXAMPLE_COM.xml ConnectionPassword", "PARTNERS.xml password"},
			} {
				fd := st[id]
				if fd.Status != finding.Fail {
					t.Errorf("%s = %s %q, want fail", id, fd.Status, fd.Message)
					continue
				}
				for _, w := range want {
					if !strings.Contains(fd.Message, w) {
						t.Errorf("%s message %q lacks %q", id, fd.Message, w)
					}
				}
				if strings.Contains(fd.Message, "OLD.EXAMPLE.COM") {
					t.Errorf("%s judges the disabled store: %q", id, fd.Message)
				}
			}
		})
	}
}

// TestHardenedSecondaryStores: the hardened stores of the hardened trees
// are read as they are written (the hardened golden files check the
// statuses).
func TestHardenedSecondaryStores(t *testing.T) {
	testenv.Short(t, "generates 3072-bit keys")
	dir := buildHardened(t, "is-7.1.0")
	f, _ := scan(t, dir, target.Declared{})
	p := f.Product
	ldap := storeNamed(t, p, "CORP.EXAMPLE.COM")
	if !ldap.External || !ldap.ReadOnly || !ldap.TLS || ldap.Password.Form != "encrypted" {
		t.Errorf("LDAPS store = %+v", ldap)
	}
	pw := secretNamed(t, p, "PARTNERS.xml password")
	if pw.Form != "secret_ref" || pw.Alias != "partners_db_password" || !pw.Resolved || pw.Origin.Line != 10 {
		t.Errorf("JDBC store password = %+v", pw)
	}
}

// TestMalformedSecondaryStore: a broken store file makes the user store
// rules err (they cannot tell), while the rest of the scan still judges.
func TestMalformedSecondaryStore(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "is-7.1.0"), dir)
	writeFile(t, filepath.Join(dir, secondaryStoresDir, "BROKEN.xml"), []byte("<UserStoreManager class=\"x\"><Property name=\"ConnectionURL\">ldap://a</Prop"))
	_, fs := scan(t, dir, target.Declared{})
	got := map[string]finding.Finding{}
	for _, f := range fs {
		got[f.RuleID] = f
	}
	for _, id := range []string{"IAM-001", "TLS-014"} {
		if f := got[id]; f.Status != finding.Error || !strings.Contains(f.Message, "BROKEN.xml") {
			t.Errorf("%s = %s %q, want an error naming BROKEN.xml", id, f.Status, f.Message)
		}
	}
	// SEC-001 already fails on the fixture's own clear-text passwords; a
	// failure outranks the unreadable file.
	if f := got["SEC-001"]; f.Status != finding.Fail {
		t.Errorf("SEC-001 = %s %q", f.Status, f.Message)
	}
	if f := got["NET-007"]; f.Status != finding.Fail {
		t.Errorf("NET-007 = %s: the broken store must not stop other rules", f.Status)
	}
}

// TestNoSecondaryStoresOnMI: Micro Integrator has no secondary store
// directory; a stray one is not read.
func TestNoSecondaryStoresOnMI(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "mi-4.3.0"), dir)
	if err := os.MkdirAll(filepath.Join(dir, secondaryStoresDir), 0o755); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join("testdata", "userstores", "weak"), filepath.Join(dir, secondaryStoresDir))
	f, _ := scan(t, dir, target.Declared{})
	for _, u := range f.Product.UserStores {
		if u.Name != "primary" {
			t.Errorf("MI store %q read from %s", u.Name, secondaryStoresDir)
		}
	}
}

// secondaryStoresDir is where IS and API-M keep secondary user stores
// (products.yaml secondary_userstores).
const secondaryStoresDir = "repository/deployment/server/userstores"
