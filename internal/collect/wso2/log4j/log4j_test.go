package log4j

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

func TestAppendersOfFixture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.WSO2Fixture(t, "apim-4.1.0"), "repository", "conf", "log4j2.properties"))
	if err != nil {
		t.Fatal(err)
	}
	var carbon *Appender
	as := Appenders(ParseProperties(b))
	for i := range as {
		if as[i].ID == "CARBON_LOGFILE" {
			carbon = &as[i]
		}
	}
	if carbon == nil || carbon.Type != "RollingFile" || carbon.MaxBackups != 20 || len(carbon.Policies) != 2 || carbon.Line != 15 {
		t.Fatalf("CARBON_LOGFILE = %+v", carbon)
	}
}

func TestPropertiesSyntax(t *testing.T) {
	ps := ParseProperties([]byte("# c\na = 1\nb:2\nc 3\nlong = x\\\n   y\nesc = \\u0041\\tB\na = 4\n"))
	got := map[string]Prop{}
	for _, p := range ps {
		got[p.Key] = p
	}
	if got["a"].Value != "4" || got["b"].Value != "2" || got["c"].Value != "3" || got["long"].Value != "xy" || got["esc"].Value != "A\tB" || got["long"].Line != 5 {
		t.Fatalf("%+v", got)
	}
}
