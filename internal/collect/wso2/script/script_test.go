package script

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const kernelLike = `#!/bin/sh
if [ "$CMD" = "--debug" ]; then
  JAVA_OPTS="-Xdebug -Xnoagent -Xrunjdwp:transport=dt_socket,server=y,suspend=y,address=$PORT"
fi
if [ -z "$JVM_MEM_OPTS" ]; then
   java_version=$("$JAVACMD" -version 2>&1 | awk -F '"' '/version/ {print $2}')
   JVM_MEM_OPTS="-Xms256m -Xmx1024m"
   if [ "$java_version" \< "1.8" ]; then
      JVM_MEM_OPTS="$JVM_MEM_OPTS -XX:MaxPermSize=256m"
   fi
fi
while [ "$status" = "$START_EXIT_STATUS" ]
do
    $JAVACMD \
    $JVM_MEM_OPTS \
    $JAVA_OPTS \
    -Dcom.sun.management.jmxremote \
    -classpath "$CARBON_CLASSPATH" \
    -Dhttpclient.hostnameVerifier="DefaultAndLocalhost" \
    org.wso2.carbon.bootstrap.Bootstrap $*
    status=$?
done
`

func TestKernelScript(t *testing.T) {
	j := Parse([]byte(kernelLike))
	if !j.Found {
		t.Fatal("java command not found")
	}
	var uncond, cond []string
	for _, o := range j.Options {
		if o.Conditional {
			cond = append(cond, o.Text)
		} else {
			uncond = append(uncond, o.Text)
		}
	}
	want := map[string]bool{"-Xms256m": true, "-Xmx1024m": true, "-Dcom.sun.management.jmxremote": true, "-classpath": true, "-Dhttpclient.hostnameVerifier=DefaultAndLocalhost": true}
	for _, o := range uncond {
		if !want[o] {
			t.Errorf("unexpected unconditional option %s", o)
		}
		delete(want, o)
	}
	if len(want) > 0 {
		t.Errorf("missing %v (got %v)", want, uncond)
	}
	if len(cond) == 0 {
		t.Error("the --debug branch's options were not reported as conditional")
	}
	if v := Value(j.Properties()["httpclient.hostnameVerifier"]); v != "DefaultAndLocalhost" {
		t.Errorf("hostnameVerifier = %q", v)
	}
}

// FuzzParse: options come only with a java command line, each written on
// a line of the script, the same on every parse; the properties are the
// unconditional -D options.
func FuzzParse(f *testing.F) {
	f.Add([]byte(kernelLike))
	f.Add([]byte("exec java -jar x.jar \\\n -Da=b \\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		j := Parse(data)
		if !j.Found && len(j.Options) > 0 {
			t.Fatalf("options %v without a java command line", j.Options)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, o := range j.Options {
			if o.Text == "" || o.Line < 1 || o.Line > min(lines, maxLines) {
				t.Fatalf("option %+v (of %d lines)", o, lines)
			}
		}
		if again := Parse(data); !reflect.DeepEqual(j, again) {
			t.Fatalf("parsed twice, different results: %+v, %+v", j, again)
		}
		for k, o := range j.Properties() {
			if o.Conditional || !strings.HasPrefix(o.Text, "-D"+k) {
				t.Fatalf("property %q from %+v", k, o)
			}
		}
	})
}

// Properties returns the -D properties of the unconditional options, the
// last setting of each winning (as the JVM does).
func (j JVM) Properties() map[string]Option {
	out := map[string]Option{}
	for _, o := range j.Options {
		if o.Conditional || !strings.HasPrefix(o.Text, "-D") {
			continue
		}
		k, _, _ := strings.Cut(o.Text[2:], "=")
		out[k] = o
	}
	return out
}

// Value returns the value of -Dname=value.
func Value(o Option) string {
	_, v, _ := strings.Cut(o.Text, "=")
	return v
}
