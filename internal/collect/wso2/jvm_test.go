package wso2

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/jvmflags"
	"github.com/rampart-sec/rampart/internal/collect/wso2/script"
	"github.com/rampart-sec/rampart/internal/facts"
)

// TestScriptAndProcessAgree: the JVM facts read from a start script equal
// those of the command line the script runs, as the host collector reads
// it from /proc (origins aside): one flag parser serves both.
func TestScriptAndProcessAgree(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "hardened", "start.sh"))
	if err != nil {
		t.Fatal(err)
	}
	parsed := script.Parse(b)
	var opts []jvmflags.Option
	for _, o := range parsed.Options {
		if !o.Conditional {
			opts = append(opts, jvmflags.Option{Text: o.Text, Origin: facts.Origin{File: "bin/wso2server.sh", Line: o.Line}})
		}
	}
	fromScript := jvmflags.Build("bin/wso2server.sh", opts)
	home := "/opt/wso2is-7.1.0"
	argv := []string{"/usr/lib/jvm/jdk-17/bin/java",
		"-Xbootclasspath/a:", "-Xms512m", "-Xmx2048m", "-XX:+HeapDumpOnOutOfMemoryError",
		"-XX:HeapDumpPath=" + home + "/repository/logs/heap-dump.hprof",
		"-classpath", home + "/bin/bootstrap.jar",
		"-Djava.io.tmpdir=" + home + "/tmp", "-Dcarbon.home=" + home,
		"-Djdk.tls.ephemeralDHKeySize=2048", "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
		"-Dhttpclient.hostnameVerifier=Strict", "-Dorg.opensaml.httpclient.https.disableHostnameVerification=false",
		"-Djava.security.egd=file:/dev/./urandom",
		"org.wso2.carbon.bootstrap.Bootstrap"}
	fromProc := jvmflags.FromArgv(argv, "/proc/4242/cmdline")

	strip := func(j facts.JVM) facts.JVM {
		j.Source = ""
		props := map[string]facts.Setting{}
		for k, p := range j.Properties {
			props[k] = facts.Setting{Key: p.Key, Set: p.Set}
		}
		j.Properties = props
		var opts []facts.Setting
		for _, o := range j.Options {
			opts = append(opts, facts.Setting{Key: o.Key, Set: o.Set})
		}
		j.Options = opts
		return j
	}
	if a, b := strip(fromScript), strip(fromProc); !reflect.DeepEqual(a, b) {
		t.Errorf("script and process disagree:\nscript  %+v\nprocess %+v", a, b)
	}
	if fromScript.DHKeySize != 2048 || fromScript.HeapMaxMB != 2048 || fromScript.DebugAgent {
		t.Errorf("script facts = %+v", fromScript)
	}
	if o := fromScript.Properties["jdk.tls.ephemeralDHKeySize"].Origin; o.File != "bin/wso2server.sh" || o.Line == 0 {
		t.Errorf("script origin = %+v", o)
	}
}
