package tomledit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func flat(t *testing.T, b []byte) map[string]any {
	t.Helper()
	es, err := tomlcfg.ParseTOML(b, "deployment.toml")
	if err != nil {
		t.Fatalf("edited document does not parse: %v\n%s", err, b)
	}
	m := map[string]any{}
	for _, e := range es {
		m[e.Key] = e.Value
	}
	return m
}

func render(t *testing.T, d *Doc) string {
	t.Helper()
	out, _, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestReplaceKeepsSpacingQuotesAndComments(t *testing.T) {
	src := "# head\n[keystore.tls]\nfile_name =  \"wso2carbon.jks\"\npassword =  'wso2carbon' # the store\nalias = \"wso2carbon\"\n\n#[keystore.primary]\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("keystore.tls", "password", "$secret{keystore_tls_password}", "SEC-001")
	got := render(t, d)
	want := strings.Replace(src, "'wso2carbon' # the store", "'$secret{keystore_tls_password}' # the store", 1)
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAddKeyInTableStyleAndNewTableAtEnd(t *testing.T) {
	src := "[server]\nhostname = \"localhost\"\n\n[truststore]\nfile_name=\"client-truststore.p12\"\ntype=\"PKCS12\"\n\n# trailing comment\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("truststore", "password", "$secret{truststore_password}", "SEC-001")
	d.Set("server", "offset", int64(3), "NET-002")
	d.Set("monitoring.jmx", "rmi_server_start", false, "NET-003")
	d.Set("passthru_http", "'http.origin-server'", "WebServer", "HTTP-001")
	got := render(t, d)
	want := "[server]\nhostname = \"localhost\"\noffset = 3\n\n[truststore]\nfile_name=\"client-truststore.p12\"\ntype=\"PKCS12\"\npassword=\"$secret{truststore_password}\"\n\n# trailing comment\n" +
		"\n[monitoring.jmx]\nrmi_server_start = false\n" +
		"\n[passthru_http]\n'http.origin-server' = \"WebServer\"\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	m := flat(t, []byte(got))
	if m["passthru_http.'http.origin-server'"] != "WebServer" || m["server.offset"] != int64(3) {
		t.Fatalf("flat keys: %v", m)
	}
}

func TestDottedTablesAndArrayElements(t *testing.T) {
	src := "[transport.https]\nsslHostConfig.properties.ciphers = \"A\"\n\n[[internal_apis.users]]\nuser.name = \"admin\"\nuser.password = \"admin\"\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("transport.https.sslHostConfig.properties", "protocols", "TLSv1.2,TLSv1.3", "TLS-011")
	d.Set("internal_apis.users[0]", "user.password", "$secret{mgt}", "SEC-002")
	d.AppendArrayElement("internal_apis.users", []KV{{"user.name", "ops"}, {"user.password", "$secret{ops}"}}, "SEC-002")
	got := render(t, d)
	m := flat(t, []byte(got))
	if m["transport.https.sslHostConfig.properties.protocols"] != "TLSv1.2,TLSv1.3" {
		t.Fatalf("dotted key not added:\n%s", got)
	}
	if m["internal_apis.users[0].user.password"] != "$secret{mgt}" || m["internal_apis.users[1].user.name"] != "ops" {
		t.Fatalf("array elements:\n%s", got)
	}
}

func TestCRLFAndNoFinalNewline(t *testing.T) {
	src := "[server]\r\nhostname = \"localhost\"\r\n[super_admin]\r\nusername = \"admin\""
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("super_admin", "password", "$secret{admin_password}", "SEC-002")
	d.Set("server", "hostname", "is.example.com", "NET-007")
	d.Set("secrets", "admin_password", "c2VjcmV0", "SEC-002")
	got := render(t, d)
	if strings.Count(got, "\n") != strings.Count(got, "\r\n") {
		t.Fatalf("line endings mixed:\n%q", got)
	}
	m := flat(t, []byte(got))
	if m["super_admin.password"] != "$secret{admin_password}" || m["server.hostname"] != "is.example.com" || m["secrets.admin_password"] != "c2VjcmV0" {
		t.Fatalf("%q", got)
	}
}

func TestSameValueIsNoChange(t *testing.T) {
	src := "[session_data.cleanup]\nclean_expired_session_data_in_chunks_of = \"8192\"\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("session_data.cleanup", "clean_expired_session_data_in_chunks_of", "8192", "IAM-006")
	if d.Changed() {
		t.Fatal("setting the value already written is a change")
	}
}

func TestCanonicalNames(t *testing.T) {
	src := "[user_store]\ntype = \"read_only_ldap\"\nconnection_password = \"admin\"\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Canonical = func(k string) []string {
		if k == "user_store.connection_password" {
			return []string{"user_store.properties.ConnectionPassword"}
		}
		return nil
	}
	d.Set("user_store.properties", "ConnectionPassword", "$secret{ldap}", "SEC-001")
	got := render(t, d)
	if !strings.Contains(got, "connection_password = \"$secret{ldap}\"") || strings.Contains(got, "ConnectionPassword") {
		t.Fatalf("the written key was not reused:\n%s", got)
	}
}

// TestEveryFixtureRoundTrips: on every shipped deployment.toml, adding and
// replacing keys leaves a document the collector's parser reads with the
// new values and every other value unchanged.
func TestEveryFixtureRoundTrips(t *testing.T) {
	root := filepath.Join(testenv.Shared(t), "fixtures")
	files, _ := filepath.Glob(filepath.Join(root, "wso2", "*", "repository", "conf", "deployment.toml"))
	more, _ := filepath.Glob(filepath.Join(root, "wso2", "*", "conf", "deployment.toml"))
	files = append(files, more...)
	if len(files) < 7 {
		t.Fatalf("found %d deployment.toml fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		before := flat(t, b)
		d.Set("server", "hostname", "node1.example.com", "NET-007")
		d.Set("super_admin", "password", "$secret{admin_password}", "SEC-002")
		d.Set("secrets", "admin_password", "QUJD", "SEC-002")
		d.Set("monitoring.jmx", "rmi_server_start", false, "NET-003")
		out, recs, err := d.Render()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(recs) == 0 {
			t.Fatalf("%s: no change recorded", f)
		}
		after := flat(t, out)
		for k, v := range before {
			if k == "server.hostname" || k == "super_admin.password" {
				continue
			}
			if _, isList := v.([]any); isList {
				continue
			}
			if after[k] != v {
				t.Errorf("%s: %s changed from %v to %v", f, k, v, after[k])
			}
		}
		if after["server.hostname"] != "node1.example.com" || after["super_admin.password"] != "$secret{admin_password}" || after["monitoring.jmx.rmi_server_start"] != false {
			t.Errorf("%s: new values missing", f)
		}
		// Idempotent: the same changes on the result change nothing.
		d2, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		d2.Set("server", "hostname", "node1.example.com", "NET-007")
		d2.Set("super_admin", "password", "$secret{admin_password}", "SEC-002")
		d2.Set("secrets", "admin_password", "QUJD", "SEC-002")
		d2.Set("monitoring.jmx", "rmi_server_start", false, "NET-003")
		if d2.Changed() {
			t.Errorf("%s: second run changes the document", f)
		}
	}
}

func TestRecordsNameLines(t *testing.T) {
	src := "[a]\nx = 1\n\n[b]\ny = \"old\"\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("b", "y", "new", "R-1")
	d.Set("a", "z", true, "R-2")
	_, recs, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%+v", recs)
	}
	if recs[0].Rule != "R-2" || recs[0].NewFirst != 3 || recs[0].After != "z = true\n" {
		t.Errorf("insert record %+v", recs[0])
	}
	if recs[1].Rule != "R-1" || recs[1].OldFirst != 5 || recs[1].NewFirst != 6 || recs[1].Before != "y = \"old\"\n" || recs[1].After != "y = \"new\"\n" {
		t.Errorf("replace record %+v", recs[1])
	}
}

func TestBadInput(t *testing.T) {
	for _, src := range []string{"[a\nx=1", "x = \"unterminated\n", "[a]\nx=1\nx=2\n"} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}

func FuzzEdit(f *testing.F) {
	f.Add([]byte("[server]\nhostname = \"localhost\"\n[[a.b]]\nx.y = 'z'\n"))
	f.Add([]byte("\xef\xbb\xbfa = 1\r\n[t]\r\nk=\"v\"\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		keys := d.Keys()
		d.Set("server", "hostname", "h\"x", "R")
		d.Set("n.m", "'q.r'", int64(3), "R")
		if len(keys) > 0 {
			k := keys[len(keys)/2]
			i := strings.LastIndexByte(k, '.')
			if i > 0 && !strings.ContainsAny(k, "'[") {
				d.Set(k[:i], k[i+1:], "v", "R")
			}
		}
		out, _, err := d.Render()
		if err != nil {
			return
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("edit produced invalid TOML: %v\n--- in\n%q\n--- out\n%q", err, b, out)
		}
	})
}

// Changed reports whether any Set or append would change the document.
func (d *Doc) Changed() bool {
	_, recs, err := d.Render()
	return err == nil && len(recs) > 0
}
