// Package jvmflags turns the options of a Java command line into JVM
// facts: system properties, heap sizes, debug agents, remote JMX and the
// TLS hardening flags. The wso2 collector feeds it the options of a start
// script (each with its script line), the host collector the argv of a
// running process; both get the same facts from the same flags.
package jvmflags

import (
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// Option is one JVM option and where it was read.
type Option struct {
	Text   string
	Origin facts.Origin
}

// Args returns the JVM options of a java argv: the arguments after the
// launcher and before the main class, -jar file or module. Options whose
// value is the next argument (-cp path) keep only the option.
func Args(argv []string) []string {
	if len(argv) < 2 {
		return nil
	}
	var out []string
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-cp" || a == "-classpath" || a == "--class-path" || a == "-p" || a == "--module-path" ||
			a == "--add-opens" || a == "--add-exports" || a == "--add-modules" || a == "--add-reads":
			out = append(out, a)
			i++
		case a == "-jar" || a == "-m" || a == "--module":
			return out
		case strings.HasPrefix(a, "-"):
			out = append(out, a)
		default:
			return out // the main class; what follows are program arguments
		}
	}
	return out
}

// FromArgv turns a running java process's argv into JVM facts; source
// names where it was read (/proc/PID/cmdline).
func FromArgv(argv []string, source string) facts.JVM {
	args := Args(argv)
	opts := make([]Option, len(args))
	for i, a := range args {
		opts[i] = Option{Text: a, Origin: facts.Origin{File: source}}
	}
	return Build(source, opts)
}

// Build turns JVM options, in command-line order, into JVM facts. The last
// setting of a property or heap size wins, as in the JVM. Secret-looking
// property values are redacted.
func Build(source string, opts []Option) facts.JVM {
	j := facts.JVM{Source: source, Properties: map[string]facts.Setting{}, Options: []facts.Setting{}}
	raw := map[string]string{} // property values before redaction
	for _, o := range opts {
		a := strings.TrimSpace(o.Text)
		if kv, ok := strings.CutPrefix(a, "-D"); ok {
			k, v, _ := strings.Cut(kv, "=")
			if k == "" {
				continue
			}
			v = strings.Trim(v, `"'`)
			j.Properties[k] = facts.Setting{Key: k, Value: facts.RedactValue(k, v), Set: true, Origin: o.Origin}
			raw[k] = v
			continue
		}
		j.Options = append(j.Options, facts.Setting{Key: OptionKey(a), Value: a, Set: true, Origin: o.Origin})
		switch {
		case strings.HasPrefix(a, "-Xmx"):
			j.HeapMaxMB = SizeMB(a[4:])
		case strings.HasPrefix(a, "-XX:MaxHeapSize="):
			j.HeapMaxMB = SizeMB(strings.TrimPrefix(a, "-XX:MaxHeapSize="))
		case strings.HasPrefix(a, "-Xms"):
			j.HeapMinMB = SizeMB(a[4:])
		case strings.HasPrefix(a, "-XX:InitialHeapSize="):
			j.HeapMinMB = SizeMB(strings.TrimPrefix(a, "-XX:InitialHeapSize="))
		case debugAgent(a):
			j.DebugAgent = true
		}
	}
	if v, ok := raw["jdk.tls.ephemeralDHKeySize"]; ok {
		j.DHKeySize, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	if v, ok := raw["jdk.tls.rejectClientInitiatedRenegotiation"]; ok {
		j.RejectClientRenegotiation = strings.ToLower(strings.TrimSpace(v))
	}
	if v, ok := raw["httpclient.hostnameVerifier"]; ok {
		j.HostnameVerifier = strings.TrimSpace(v)
	}
	if v, ok := raw["org.opensaml.httpclient.https.disableHostnameVerification"]; ok {
		j.DisableHostnameVerification = strings.ToLower(strings.TrimSpace(v))
	}
	// -Dcom.sun.management.jmxremote (unless =false) or a remote port
	// opens remote JMX; its other settings (.ssl, .authenticate) alone do not.
	if v, ok := raw["com.sun.management.jmxremote"]; ok && !strings.EqualFold(strings.TrimSpace(v), "false") {
		j.JMXRemote = true
	}
	if _, ok := raw["com.sun.management.jmxremote.port"]; ok {
		j.JMXRemote = true
	}
	if _, ok := raw["com.sun.management.jmxremote.rmi.port"]; ok {
		j.JMXRemote = true
	}
	return j
}

// debugAgent reports whether an option loads the JDWP debug agent.
func debugAgent(a string) bool {
	return a == "-Xdebug" || strings.HasPrefix(a, "-Xrunjdwp") ||
		((strings.HasPrefix(a, "-agentlib:") || strings.HasPrefix(a, "-agentpath:")) && strings.Contains(a, "jdwp"))
}

// OptionKey names an option without its value: -Xmx, -XX:MaxHeapSize,
// -agentlib.
func OptionKey(a string) string {
	switch {
	case strings.HasPrefix(a, "-Xmx"), strings.HasPrefix(a, "-Xms"), strings.HasPrefix(a, "-Xss"):
		return a[:4]
	case strings.HasPrefix(a, "-XX:"):
		k, _, _ := strings.Cut(strings.TrimLeft(a[4:], "+-"), "=")
		return "-XX:" + k
	}
	k, _, _ := strings.Cut(a, "=")
	k, _, _ = strings.Cut(k, ":")
	return k
}

// SizeMB parses a JVM memory size (1024m, 2g, 524288k, 1073741824 bytes)
// into MiB; 0 when it is not one.
func SizeMB(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0
	}
	return n * mult >> 20
}
