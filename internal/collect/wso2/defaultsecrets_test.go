package wso2

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/target"
)

// TestShippedDefaultSecrets: passwords that only default.json sets, and
// the product renders into a file, are reported as clear-text public
// defaults with their default.json line.
func TestShippedDefaultSecrets(t *testing.T) {
	const def = "repository/resources/conf/default.json"
	for fixture, want := range map[string]map[string]int{
		"apim-4.1.0": {"tasks.server_password": 613, "database.mb.store_db.password": 16, "qpid.management.keystore_password": 377, "identity.auth_framework.endpoint.password": 888},
		"apim-4.5.0": {"tasks.server_password": 767, "database.mb.store_db.password": 18, "qpid.management.keystore_password": 423},
		"is-7.1.0":   {"tasks.server_password": 255},
		"mi-4.1.0":   {"monitoring.ei_analytics.password": 441},
		"mi-4.3.0":   {"monitoring.ei_analytics.password": 642, "server.blocking.password": 37},
	} {
		t.Run(fixture, func(t *testing.T) {
			f, _ := scan(t, filepath.Join(fixturesDir(t), fixture), target.Declared{})
			for key, line := range want {
				s := secretNamed(t, f.Product, key)
				if s.Form != "plain" || !s.KnownDefault || s.Origin.File != def || s.Origin.Line != line {
					t.Errorf("%s = %+v, want a known default at %s:%d", key, s, def, line)
				}
			}
			// Rendered only when the persistent notifier is on (it is off).
			for _, s := range f.Product.Secrets {
				if s.Key == "apim.token.revocation.persistent_notifier.password" {
					t.Errorf("persistent notifier password reported while the notifier is off: %+v", s)
				}
			}
		})
	}
}

// TestShippedDefaultWrittenAgain: a value written in deployment.toml that
// equals the shipped default of its key is a public default too; a
// switch turns a gated default on.
func TestShippedDefaultWrittenAgain(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "apim-4.5.0"), dir)
	p := filepath.Join(dir, "repository/conf/deployment.toml")
	b, _ := os.ReadFile(p)
	writeFile(t, p, append(b, []byte("\n[qpid.management]\nkeystore_password = \"password\"\n\n[apim.token.revocation]\nenable_persistent_notifier = true\n")...))
	f, _ := scan(t, dir, target.Declared{})
	q := secretNamed(t, f.Product, "qpid.management.keystore_password")
	if !q.KnownDefault || q.Origin.File != "repository/conf/deployment.toml" {
		t.Errorf("qpid keystore password = %+v", q)
	}
	n := secretNamed(t, f.Product, "apim.token.revocation.persistent_notifier.password")
	if n.Form != "plain" || !n.KnownDefault || n.Origin.Line != 947 {
		t.Errorf("persistent notifier password = %+v", n)
	}
}
