package wso2

import (
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/wso2kb"
)

func TestDetectVersions(t *testing.T) {
	cases := []struct {
		name, dir        string
		files            map[string]string
		profile, version string
	}{
		{"IS 6.1 version.txt", "wso2is-6.1.0", map[string]string{"repository/conf/deployment.toml": "[server]\n", "bin/version.txt": "WSO2 Identity Server v6.1.0\n"}, ProfileIS, "6.1.0"},
		{"IS 5.10 carbon.xml only", "x", map[string]string{"repository/conf/deployment.toml": "[server]\n", "repository/conf/carbon.xml": "<Server><Name>WSO2 Identity Server</Name><Version>5.10.0</Version></Server>"}, ProfileIS, "5.10.0"},
		{"AM 3.2 version.txt", "x", map[string]string{"repository/conf/deployment.toml": "[server]\n", "bin/version.txt": "WSO2 API Manager v3.2.0"}, ProfileAPIM, "3.2.0"},
		{"AM 4.2 userAgent", "x", map[string]string{"repository/conf/deployment.toml": "[server]\n", "repository/resources/conf/default.json": `{"server.userAgent": "WSO2 AM 4.2.0"}`}, ProfileAPIM, "4.2.0"},
		{"AM from toml and dir name", "wso2am-3.1.0", map[string]string{"repository/conf/deployment.toml": "[[apim.gateway.environment]]\nname = \"x\"\n"}, ProfileAPIM, "3.1.0"},
		{"MI 1.2 version.txt", "x", map[string]string{"conf/deployment.toml": "[server]\n", "bin/version.txt": "WSO2 Micro Integrator v1.2.0"}, ProfileMI, "1.2.0"},
		{"MI 4.2 carbon.xml", "x", map[string]string{"conf/deployment.toml": "[server]\n", "conf/carbon.xml": "<Server><Name>WSO2 Micro Integrator</Name><Version>4.2.0</Version></Server>"}, ProfileMI, "4.2.0"},
		{"IS 7.0 dir name", "wso2is-7.0.0", map[string]string{"repository/conf/deployment.toml": "[server]\n"}, ProfileIS, "7.0.0"},
		{"unknown version", "opt", map[string]string{"repository/conf/deployment.toml": "[server]\n"}, ProfileIS, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.dir)
			for f, body := range c.files {
				writeFile(t, filepath.Join(dir, f), []byte(body))
			}
			h, err := openHome(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer h.close()
			d, err := detect(h, "", wso2kb.Default())
			if err != nil {
				t.Fatal(err)
			}
			if d.profile != c.profile || d.version != c.version {
				t.Fatalf("got %s %s, want %s %s", d.profile, d.version, c.profile, c.version)
			}
		})
	}
}

func TestDetectFixtures(t *testing.T) {
	want := map[string][2]string{
		"apim-4.1.0": {ProfileAPIM, "4.1.0"}, "apim-4.5.0": {ProfileAPIM, "4.5.0"},
		"is-5.11.0": {ProfileIS, "5.11.0"}, "is-7.1.0": {ProfileIS, "7.1.0"}, "is-7.3.0-docker-compose": {ProfileIS, "7.3.0"},
		"mi-4.1.0": {ProfileMI, "4.1.0"}, "mi-4.3.0": {ProfileMI, "4.3.0"},
	}
	for _, name := range fixtureNames(t) {
		h, err := openHome(filepath.Join(fixturesDir(t), name), nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := detect(h, "", wso2kb.Default())
		h.close()
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[name]; !ok || d.profile != w[0] || d.version != w[1] {
			t.Errorf("%s: got %s %s, want %v", name, d.profile, d.version, want[name])
		}
	}
}
