package tomlcfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

func fixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	p := filepath.Join(append([]string{testenv.WSO2Fixtures(t)}, parts...)...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func load(t testing.TB, dir, confDir string) *Config {
	t.Helper()
	user, err := ParseTOML(fixture(t, dir, confDir, "deployment.toml"), "deployment.toml")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := ParseDefaults(fixture(t, dir, "repository/resources/conf/default.json"), "default.json")
	if err != nil {
		t.Fatal(err)
	}
	inf, err := ParseInfer(fixture(t, dir, "repository/resources/conf/infer.json"), "infer.json")
	if err != nil {
		t.Fatal(err)
	}
	km, err := ParseKeyMappings(fixture(t, dir, "repository/resources/conf/key-mappings.json"), "key-mappings.json")
	if err != nil {
		t.Fatal(err)
	}
	return Build(Inputs{User: user, Defaults: defs, Infer: inf, Mappings: km})
}

func TestAPIM41Overlay(t *testing.T) {
	c := load(t, "apim-4.1.0", "repository/conf")
	// A user line wins over the default and keeps its line.
	v, ok := c.Lookup("keystore.tls.password")
	if !ok || v.Text() != "wso2carbon" || v.Entry.Layer != User || v.Entry.Line != 31 {
		t.Fatalf("keystore.tls.password = %+v", v)
	}
	// A default that is a whole $ref follows it to the user's value.
	v, _ = c.Lookup("transport.netty.https.sender.keystore.password")
	if v.Text() != "wso2carbon" || v.Source.Key != "keystore.tls.password" || v.Source.Layer != User {
		t.Fatalf("netty keystore password = %+v", v)
	}
	// An untouched default keeps default.json's line.
	v, _ = c.Lookup("transport.passthru_https.listener.parameters.HttpsProtocols")
	if v.Text() != "TLSv1,TLSv1.1,TLSv1.2" || v.Entry.Layer != Default || v.Entry.Line == 0 {
		t.Fatalf("HttpsProtocols = %+v", v)
	}
	// Array of tables.
	env, ok := c.Entry("apim.gateway.environment[0].username")
	if !ok || env.Value != "${admin.username}" || env.Line != 60 {
		t.Fatalf("gateway username = %+v", env)
	}
	// Inference from database.$1.type.
	if !c.Has("database.apim_db.type") {
		t.Fatal("database.apim_db.type missing")
	}
}

func TestMIInferAndMappings(t *testing.T) {
	c := load(t, "mi-4.1.0", "conf")
	v, ok := c.Lookup("user_store.properties.ConnectionURL")
	if !ok || v.Text() != "ldap://localhost:10389" || v.Entry.Layer != Inferred || !strings.Contains(v.Entry.From, "user_store.type") {
		t.Fatalf("inferred ConnectionURL = %+v", v)
	}
	user, err := ParseTOML([]byte("[transport.http]\nlistener.secured_protocols = \"TLSv1.2,TLSv1.3\"\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := ParseDefaults(fixture(t, "mi-4.1.0", "repository/resources/conf/default.json"), "default.json")
	km, _ := ParseKeyMappings(fixture(t, "mi-4.1.0", "repository/resources/conf/key-mappings.json"), "key-mappings.json")
	c = Build(Inputs{User: user, Defaults: defs, Mappings: km})
	v, _ = c.Lookup("transport.https.listener.parameter.HttpsProtocols")
	if v.Text() != "TLSv1.2,TLSv1.3" || v.Entry.Line != 2 || v.Entry.From != "transport.http.listener.secured_protocols" {
		t.Fatalf("mapped protocols = %+v", v)
	}
}

func TestTOMLShapes(t *testing.T) {
	src := `[server]
hostname = "h"
[[event_listener]]
id = "a"
[event_listener.properties]
'header.X' = "1"
[[event_listener]]
id = "b"
[x]
inline = {a = 1, b = {c = true}}
"quoted.key" = "q"
`
	es, err := ParseTOML([]byte(src), "d.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range es {
		got[e.Key] = e
	}
	for k, want := range map[string]string{
		"server.hostname":                         "h",
		"event_listener[0].properties.'header.X'": "1",
		"event_listener[1].id":                    "b",
		"x.inline.a":                              "1",
		"x.inline.b.c":                            "true",
		"x.'quoted.key'":                          "q",
	} {
		if String(got[k].Value) != want {
			t.Errorf("%s = %v, want %s (all: %v)", k, got[k].Value, want, es)
		}
	}
	list, _ := got["event_listener"].Value.([]any)
	if len(list) != 2 {
		t.Fatalf("event_listener = %#v", got["event_listener"].Value)
	}
	if got["x.'quoted.key'"].Line != 11 {
		t.Errorf("line = %d", got["x.'quoted.key'"].Line)
	}
}

func TestTOMLErrors(t *testing.T) {
	for name, src := range map[string]string{
		"duplicate":    "[a]\nb = 1\nb = 2\n",
		"unterminated": "[a]\nb = \"x\n",
		"garbage":      "\x00\x01[[[",
	} {
		if _, err := ParseTOML([]byte(src), "d.toml"); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "d.toml") {
			t.Errorf("%s: error %q lacks the file", name, err)
		}
	}
}

func TestRefCycle(t *testing.T) {
	user, _ := ParseTOML([]byte("a = \"$ref{b}\"\nb = \"$ref{a}\"\nc = \"x$ref{missing}\"\n"), "d.toml")
	c := Build(Inputs{User: user})
	if v, _ := c.Lookup("a"); v.Err == nil {
		t.Fatal("cycle not reported")
	}
	if v, _ := c.Lookup("c"); v.Err == nil || !strings.Contains(v.Err.Error(), "missing") {
		t.Fatalf("missing ref: %+v", v)
	}
}
