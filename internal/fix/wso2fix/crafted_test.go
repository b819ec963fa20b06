package wso2fix_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func edit(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRulesTheFixturesPass: the shipped fixtures pass some file rules a
// real deployment often fails. An IS 7.1 copy is given the real shape of
// those failures: a start script with weak JVM flags (TLS-008, TLS-009,
// TLS-013, TLS-015), a file appender that never rotates (LOG-001), a
// trust-all setting (TLS-015), a short session ID (IAM-005), CBC suites
// (TLS-012). Each is fixed and passes the re-scan.
func TestRulesTheFixturesPass(t *testing.T) {
	rs := loadRules(t)
	dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "is-7.1.0"))
	script, err := os.ReadFile(filepath.Join("..", "shedit", "testdata", "wso2server.sh"))
	if err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(dir, "bin", "wso2server.sh"), func([]byte) []byte { return script })
	edit(t, filepath.Join(dir, "repository/conf/log4j2.properties"), func(b []byte) []byte {
		return append(b, []byte("\nappender.EXTRA.type = File\nappender.EXTRA.name = EXTRA\nappender.EXTRA.fileName = ${sys:carbon.home}/repository/logs/extra.log\nappender.EXTRA.layout.type = PatternLayout\nappender.EXTRA.layout.pattern = [%u] %m%n\n")...)
	})
	edit(t, filepath.Join(dir, "repository/conf/tomcat/context.xml"), func(b []byte) []byte {
		return bytes.Replace(b, []byte(`sessionIdLength="128"`), []byte(`sessionIdLength="8"`), 1)
	})
	edit(t, filepath.Join(dir, "repository/conf/deployment.toml"), func(b []byte) []byte {
		return append(b, []byte("\n[transport.https.sslHostConfig.properties]\nciphers = \"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"\n\n[identity.outbound_client]\ntrust_all = true\n")...)
	})
	before := scanDir(t, rs, dir, "")
	want := []string{"LOG-001", "TLS-008", "TLS-009", "TLS-012", "TLS-013", "TLS-015", "IAM-005"}
	for _, id := range want {
		if before.status[id] != finding.Fail {
			t.Fatalf("the crafted copy should fail %s, it is %s", id, before.status[id])
		}
	}
	plan := planDir(t, dir, before, options(&fixtest.Keys{}))
	if f := plan.Failed(); len(f) > 0 {
		t.Fatalf("%+v", f)
	}
	if _, err := fix.Apply(plan.Changes, testNow); err != nil {
		t.Fatal(err)
	}
	after := scanDir(t, rs, dir, "")
	for _, id := range want {
		if after.status[id] != finding.Pass {
			var msg string
			for _, f := range after.findings {
				if f.RuleID == id {
					msg = f.Message
				}
			}
			t.Errorf("%s is %s after the fix: %s", id, after.status[id], msg)
		}
	}
	for id, st := range before.status {
		if st == finding.Pass && after.status[id] != finding.Pass {
			t.Errorf("%s passed before and is %s after", id, after.status[id])
		}
	}
	sh, _ := os.ReadFile(filepath.Join(dir, "bin", "wso2server.sh"))
	if !strings.Contains(string(sh), "-Djdk.tls.rejectClientInitiatedRenegotiation=true \\") {
		t.Errorf("the start script lacks the renegotiation flag:\n%s", sh)
	}
}

// TestKeystoresThatCannotBeOpened: a truststore the configured password
// does not open, and a keystore whose password is not in the files (an
// $env{} reference) while its certificates are encrypted with it, give an
// error on the fixes that need them, with the reason; the plan then holds
// errors, so nothing is applied.
func TestKeystoresThatCannotBeOpened(t *testing.T) {
	rs := loadRules(t)
	t.Run("wrong truststore password", func(t *testing.T) {
		dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "is-7.1.0"))
		edit(t, filepath.Join(dir, "repository/conf/deployment.toml"), func(b []byte) []byte {
			return bytes.Replace(b, []byte("file_name=\"client-truststore.p12\"\npassword=\"wso2carbon\""), []byte("file_name=\"client-truststore.p12\"\npassword=\"not-the-password\""), 1)
		})
		plan := planDir(t, dir, scanDir(t, rs, dir, ""), options(&fixtest.Keys{}))
		failed := plan.Failed()
		if len(failed) == 0 || !strings.Contains(failed[0].Summary, "does not open it") {
			t.Fatalf("failed: %+v", failed)
		}
	})
	t.Run("keystore password not in the files", func(t *testing.T) {
		dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "is-7.1.0"))
		edit(t, filepath.Join(dir, "repository/conf/deployment.toml"), func(b []byte) []byte {
			return bytes.Replace(b, []byte("file_name = \"wso2carbon.p12\"\npassword = \"wso2carbon\""), []byte("file_name = \"wso2carbon.p12\"\npassword = \"$env{KS_PASSWORD}\""), 1)
		})
		sc := scanDir(t, rs, dir, "")
		// Only the account fix: the keystores stay, so their key encrypts.
		var only []finding.Finding
		for _, f := range sc.findings {
			if f.RuleID == "SEC-002" {
				only = append(only, f)
			}
		}
		sc.findings = only
		plan := planDir(t, dir, sc, options(&fixtest.Keys{}))
		failed := plan.Failed()
		if len(failed) != 1 || failed[0].Rule != "SEC-002" || !strings.Contains(failed[0].Summary, "password is not in the files") {
			t.Fatalf("failed: %+v", failed)
		}
		for _, c := range plan.Changes {
			t.Errorf("a failed fix left a change: %s", c.Path)
		}
	})
}
