package tomlcfg

import (
	"strings"
	"testing"
)

func keysOf(t *testing.T, src string) map[string]Entry {
	t.Helper()
	es, err := ParseTOML([]byte(src), "deployment.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Entry{}
	for _, e := range es {
		m[e.Key] = e
	}
	return m
}

// Quoted keys mean what the product's config mapper makes of them: a
// quoted part that could have been bare is the bare key; any other quoted
// part is single-quoted, as default.json and the templates name it.
func TestQuotedKeysAsTheMapperReadsThem(t *testing.T) {
	m := keysOf(t, `
[server]
"hostname" = "is.example.com"

[transport.https."sslHostConfig".properties]
"protocols" = "TLSv1.2,TLSv1.3"
ciphers = 'TLS_AES_128_GCM_SHA256'

[synapse_properties]
'synapse.observers' = "x"
"a key" = 1

[system.parameter]
"org.wso2.CipherTransformation" = "RSA/ECB/OAEPwithSHA1andMGF1Padding"

[a]
b."c.d" = { "e" = 1, 'f.g' = 2 }

[[internal_apis.users]]
"user.name" = "ops"
'user.password' = "$secret{ops_pw}"
`)
	for _, k := range []string{
		"server.hostname",
		"transport.https.sslHostConfig.properties.protocols",
		"transport.https.sslHostConfig.properties.ciphers",
		"synapse_properties.'synapse.observers'",
		"synapse_properties.'a key'",
		"system.parameter.'org.wso2.CipherTransformation'",
		"a.b.'c.d'.e",
		"a.b.'c.d'.'f.g'",
		"internal_apis.users[0].'user.name'",
		"internal_apis.users[0].'user.password'",
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("no key %s among %v", k, keys(m))
		}
	}
	if m["server.hostname"].Line != 3 {
		t.Errorf("hostname line = %d", m["server.hostname"].Line)
	}
}

func TestCanonicalPart(t *testing.T) {
	for in, want := range map[string]string{
		"hostname": "hostname", "ssl-Host_Config9": "ssl-Host_Config9",
		"synapse.observers": "'synapse.observers'", "a b": "'a b'", "it's": `'it\'s'`,
		`say "hi"`: `'say 'hi''`, "größe": `'gr\u00f6\u00dfe'`, "": "''", "tab\there": `'tab\there'`,
	} {
		if got := CanonicalPart(in); got != want {
			t.Errorf("CanonicalPart(%q) = %s, want %s", in, got, want)
		}
	}
}

// A byte-order mark (Windows editors) and CRLF line ends change nothing:
// the same keys, values and line numbers.
func TestBOMAndCRLF(t *testing.T) {
	src := "[server]\nhostname = \"is.example.com\"\n\n[super_admin]\nusername = \"ops\"\npassword = \"$secret{admin_pw}\"\n"
	plain := keysOf(t, src)
	for name, variant := range map[string]string{
		"bom":      "\xEF\xBB\xBF" + src,
		"crlf":     strings.ReplaceAll(src, "\n", "\r\n"),
		"bom+crlf": "\xEF\xBB\xBF" + strings.ReplaceAll(src, "\n", "\r\n"),
	} {
		got := keysOf(t, variant)
		if len(got) != len(plain) {
			t.Errorf("%s: %v, want %v", name, keys(got), keys(plain))
		}
		for k, e := range plain {
			g, ok := got[k]
			if !ok || g.Value != e.Value || g.Line != e.Line {
				t.Errorf("%s: %s = %+v, want %+v", name, k, g, e)
			}
		}
	}
}

func keys(m map[string]Entry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
