package wso2

import (
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestEffectiveConfig: the unredacted configuration of a real pack, with
// its key renames.
func TestEffectiveConfig(t *testing.T) {
	e, err := EffectiveConfig(testenv.WSO2Fixture(t, "mi-4.1.0"), "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Profile != ProfileMI || e.ConfigFile != "conf/deployment.toml" {
		t.Fatalf("%+v", e)
	}
	if v, ok := e.Config.Lookup("keystore.primary.password"); !ok || v.Text() != "wso2carbon" || v.Source.Line != 10 {
		t.Fatalf("keystore.primary.password = %+v", v)
	}
	if len(e.Mappings) == 0 {
		t.Fatal("no key mappings")
	}
}
