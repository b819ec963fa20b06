package jvmflags

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
)

func TestArgs(t *testing.T) {
	argv := []string{"/usr/lib/jvm/jdk/bin/java", "-Xms256m", "-cp", "/opt/x.jar:/opt/y.jar", "-Dcarbon.home=/opt/wso2",
		"org.wso2.carbon.bootstrap.Bootstrap", "-Dsetup", "-Xmx1g"}
	got := Args(argv)
	want := []string{"-Xms256m", "-cp", "-Dcarbon.home=/opt/wso2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Args = %q, want %q (program arguments after the main class are not JVM options)", got, want)
	}
	if got := Args([]string{"java", "-Xmx2g", "-jar", "app.jar", "-Xmx4g"}); !reflect.DeepEqual(got, []string{"-Xmx2g"}) {
		t.Errorf("Args with -jar = %q", got)
	}
	if got := Args([]string{"java"}); got != nil {
		t.Errorf("Args of a bare launcher = %q", got)
	}
}

func TestBuild(t *testing.T) {
	at := func(line int) facts.Origin { return facts.Origin{File: "bin/wso2server.sh", Line: line} }
	j := Build("bin/wso2server.sh", []Option{
		{"-Xms256m", at(10)},
		{"-Xmx1024m", at(10)},
		{"-XX:MaxHeapSize=2g", at(11)},
		{"-XX:+HeapDumpOnOutOfMemoryError", at(12)},
		{"-Djdk.tls.ephemeralDHKeySize=1024", at(13)},
		{`-Djdk.tls.ephemeralDHKeySize="3072"`, at(14)},
		{"-Djdk.tls.rejectClientInitiatedRenegotiation=TRUE", at(15)},
		{"-Dhttpclient.hostnameVerifier=Strict", at(16)},
		{"-Dorg.opensaml.httpclient.https.disableHostnameVerification=False", at(17)},
		{"-Djavax.net.ssl.keyStorePassword=s3cret", at(18)},
		{"-Dcom.sun.management.jmxremote.ssl=false", at(19)},
		{"-agentpath:/opt/yourkit/libyjpagent.so", at(20)},
	})
	if j.Source != "bin/wso2server.sh" || j.HeapMinMB != 256 || j.HeapMaxMB != 2048 || j.DHKeySize != 3072 ||
		j.RejectClientRenegotiation != "true" || j.HostnameVerifier != "Strict" || j.DisableHostnameVerification != "false" {
		t.Errorf("jvm = %+v", j)
	}
	if j.DebugAgent || j.JMXRemote {
		t.Errorf("a profiler agent and a JMX SSL setting are neither a debugger nor remote JMX: %+v", j)
	}
	if p := j.Properties["jdk.tls.ephemeralDHKeySize"]; p.Value != "3072" || p.Origin != at(14) {
		t.Errorf("the last setting wins: %+v", p)
	}
	if p := j.Properties["javax.net.ssl.keyStorePassword"]; p.Value != facts.Redacted {
		t.Errorf("password property = %+v", p)
	}
	for _, o := range j.Options {
		if strings.HasPrefix(o.Value, "-D") {
			t.Errorf("property %q listed as an option", o.Value)
		}
	}
	if len(j.Options) != 5 || j.Options[2].Key != "-XX:MaxHeapSize" || j.Options[0].Key != "-Xms" || j.Options[4].Key != "-agentpath" || j.Options[2].Origin != at(11) {
		t.Errorf("options = %+v", j.Options)
	}
}

func TestDebugAndJMX(t *testing.T) {
	for _, c := range []struct {
		args       []string
		debug, jmx bool
	}{
		{[]string{"-Xdebug"}, true, false},
		{[]string{"-Xrunjdwp:transport=dt_socket,server=y,address=5005"}, true, false},
		{[]string{"-agentlib:jdwp=transport=dt_socket,server=y,address=*:5005"}, true, false},
		{[]string{"-agentpath:/opt/jdk/lib/libjdwp.so=transport=dt_socket"}, true, false},
		{[]string{"-Dcom.sun.management.jmxremote"}, false, true},
		{[]string{"-Dcom.sun.management.jmxremote=false"}, false, false},
		{[]string{"-Dcom.sun.management.jmxremote.port=9999"}, false, true},
		{[]string{"-Dcom.sun.management.jmxremote.authenticate=false"}, false, false},
	} {
		j := FromArgv(append([]string{"java"}, append(c.args, "Main")...), "/proc/1/cmdline")
		if j.DebugAgent != c.debug || j.JMXRemote != c.jmx {
			t.Errorf("%q: debug %v jmx %v, want %v %v", c.args, j.DebugAgent, j.JMXRemote, c.debug, c.jmx)
		}
		if j.Source != "/proc/1/cmdline" {
			t.Errorf("source %q", j.Source)
		}
	}
}

func TestSizeMB(t *testing.T) {
	for in, want := range map[string]int64{"1024m": 1024, "2g": 2048, "2G": 2048, "524288k": 512, "1073741824": 1024, "1t": 1 << 20, "": 0, "x": 0, "-1m": 0, "99999999999999999999g": 0} {
		if got := SizeMB(in); got != want {
			t.Errorf("SizeMB(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzFromArgv(f *testing.F) {
	f.Add("java\x00-Xmx2g\x00-Djdk.tls.ephemeralDHKeySize=2048\x00-cp\x00a.jar\x00Main\x00-Dx=1")
	f.Add("java\x00-D\x00-D=\x00-Xmx\x00-XX:MaxHeapSize=\x00-agentlib:jdwp\x00-jar")
	f.Fuzz(func(t *testing.T, s string) {
		j := FromArgv(strings.Split(s, "\x00"), "/proc/1/cmdline")
		if j.HeapMaxMB < 0 || j.HeapMinMB < 0 || j.Properties == nil || j.Options == nil {
			t.Fatalf("jvm = %+v", j)
		}
		for k, p := range j.Properties {
			if k == "" || p.Key != k {
				t.Fatalf("property %q = %+v", k, p)
			}
		}
	})
}
