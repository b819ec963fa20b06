package shedit

import (
	"os"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/jvmflags"
	"github.com/rampart-sec/rampart/internal/collect/wso2/script"
	"github.com/rampart-sec/rampart/internal/facts"
)

// jvmOf reads a script the way the collector does.
func jvmOf(t *testing.T, b []byte) facts.JVM {
	t.Helper()
	parsed := script.Parse(b)
	if !parsed.Found {
		t.Fatalf("the collector finds no java command in\n%s", b)
	}
	var opts []jvmflags.Option
	for _, o := range parsed.Options {
		if !o.Conditional {
			opts = append(opts, jvmflags.Option{Text: o.Text, Origin: facts.Origin{File: "bin/wso2server.sh", Line: o.Line}})
		}
	}
	return jvmflags.Build("bin/wso2server.sh", opts)
}

func harden(t *testing.T, src []byte) ([]byte, int) {
	t.Helper()
	before := jvmOf(t, src)
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	line := func(name string) int { return before.Properties[name].Origin.Line }
	d.Set("jdk.tls.ephemeralDHKeySize", "2048", line("jdk.tls.ephemeralDHKeySize"), "TLS-008")
	d.Set("jdk.tls.rejectClientInitiatedRenegotiation", "true", line("jdk.tls.rejectClientInitiatedRenegotiation"), "TLS-009")
	d.Set("httpclient.hostnameVerifier", "Strict", line("httpclient.hostnameVerifier"), "TLS-013")
	d.Set("org.opensaml.httpclient.https.disableHostnameVerification", "false", line("org.opensaml.httpclient.https.disableHostnameVerification"), "TLS-013")
	out, recs, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	return out, len(recs)
}

func TestStartScript(t *testing.T) {
	src, err := os.ReadFile("testdata/wso2server.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, n := harden(t, src)
	if n != 4 {
		t.Fatalf("%d changes, want 4 (3 replaced, 1 added)", n)
	}
	j := jvmOf(t, out)
	if j.DHKeySize != 2048 || j.RejectClientRenegotiation != "true" || j.HostnameVerifier != "Strict" || j.DisableHostnameVerification != "false" {
		t.Fatalf("after the edit the collector reads %+v", j)
	}
	// Only the changed lines differ; the one new line sits after $JAVACMD.
	ol, nl := strings.Split(string(src), "\n"), strings.Split(string(out), "\n")
	if len(nl) != len(ol)+1 {
		t.Fatalf("%d lines -> %d", len(ol), len(nl))
	}
	i := 0
	for i < len(nl) && strings.TrimSpace(nl[i]) != `$JAVACMD \` {
		i++
	}
	if i+1 >= len(nl) || nl[i+1] != "    -Djdk.tls.rejectClientInitiatedRenegotiation=true \\" {
		t.Fatalf("added line misplaced:\n%s", strings.Join(nl[i:i+3], "\n"))
	}
	// Idempotent.
	again, n2 := harden(t, out)
	if n2 != 0 || string(again) != string(out) {
		t.Fatalf("second run changed %d things", n2)
	}
}

func TestSingleLineAndCRLF(t *testing.T) {
	src := []byte("#!/bin/sh\r\nJAVA_OPTS=\"-Dhttpclient.hostnameVerifier=AllowAll\"\r\nexec \"$JAVACMD\" $JAVA_OPTS -cp x.jar Main\r\n")
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	d.Set("httpclient.hostnameVerifier", "Strict", 2, "TLS-013")
	d.Set("jdk.tls.ephemeralDHKeySize", "2048", 0, "TLS-008")
	out, _, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := "#!/bin/sh\r\nJAVA_OPTS=\"-Dhttpclient.hostnameVerifier=Strict\"\r\nexec \"$JAVACMD\" -Djdk.tls.ephemeralDHKeySize=2048 $JAVA_OPTS -cp x.jar Main\r\n"
	if string(out) != want {
		t.Fatalf("got %q", out)
	}
}

func TestNoJavaCommand(t *testing.T) {
	if _, err := Parse([]byte("#!/bin/sh\necho hello\n")); err != ErrNoJavaCommand {
		t.Fatalf("got %v", err)
	}
}

func FuzzEdit(f *testing.F) {
	src, _ := os.ReadFile("testdata/wso2server.sh")
	f.Add(src)
	f.Add([]byte("java -Dx=1 \\\n  -Dy=\"2\" Main\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		d.Set("jdk.tls.ephemeralDHKeySize", "2048", 3, "R")
		d.Set("x", "y", 0, "R")
		if _, _, err := d.Render(); err != nil {
			t.Fatal(err)
		}
	})
}
