package hostos

import (
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// The JVM flag parsing here reads a live command line. The wso2 collector
// reads the same flags from start scripts; the two are kept apart because
// a script needs shell-variable handling a command line does not.

// jvmArgs returns the JVM options of a java command line: the arguments
// after the launcher and before the main class or -jar file.
func jvmArgs(args []string) []string {
	if len(args) < 2 {
		return nil
	}
	var out []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-cp" || a == "-classpath" || a == "--class-path" || a == "-p" || a == "--module-path" ||
			a == "--add-opens" || a == "--add-exports" || a == "--add-modules" || a == "--add-reads":
			// Options whose value is the next argument.
			out = append(out, a)
			i++
		case a == "-jar" || a == "-m" || a == "--module":
			return out
		case strings.HasPrefix(a, "-"):
			out = append(out, a)
		default:
			return out // the main class
		}
	}
	return out
}

// parseJVM turns a java command line into JVM facts. Secret-looking
// property values are redacted.
func parseJVM(args []string, source string) facts.JVM {
	j := facts.JVM{Source: source, Properties: map[string]facts.Setting{}, Options: []facts.Setting{}}
	origin := facts.Origin{File: source}
	for _, a := range jvmArgs(args) {
		if kv, ok := strings.CutPrefix(a, "-D"); ok {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.Trim(v, `"'`)
			j.Properties[k] = facts.Setting{Key: k, Value: facts.RedactValue(k, v), Set: true, Origin: origin}
			switch k {
			case "jdk.tls.ephemeralDHKeySize":
				j.DHKeySize, _ = strconv.Atoi(v)
			case "jdk.tls.rejectClientInitiatedRenegotiation":
				j.RejectClientRenegotiation = strings.ToLower(v)
			case "httpclient.hostnameVerifier":
				j.HostnameVerifier = v
			case "org.opensaml.httpclient.https.disableHostnameVerification":
				j.DisableHostnameVerification = strings.ToLower(v)
			}
			if strings.HasPrefix(k, "com.sun.management.jmxremote") {
				j.JMXRemote = true
			}
			continue
		}
		j.Options = append(j.Options, facts.Setting{Key: optionKey(a), Value: a, Set: true, Origin: origin})
		switch {
		case strings.HasPrefix(a, "-Xmx"):
			j.HeapMaxMB = sizeMB(a[4:])
		case strings.HasPrefix(a, "-XX:MaxHeapSize="):
			j.HeapMaxMB = sizeMB(strings.TrimPrefix(a, "-XX:MaxHeapSize="))
		case strings.HasPrefix(a, "-Xms"):
			j.HeapMinMB = sizeMB(a[4:])
		case strings.HasPrefix(a, "-XX:InitialHeapSize="):
			j.HeapMinMB = sizeMB(strings.TrimPrefix(a, "-XX:InitialHeapSize="))
		case a == "-Xdebug" || strings.HasPrefix(a, "-Xrunjdwp") || strings.HasPrefix(a, "-agentlib:jdwp"):
			j.DebugAgent = true
		}
	}
	return j
}

// optionKey names an option without its value: -Xmx, -XX:MaxHeapSize.
func optionKey(a string) string {
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

// sizeMB parses a JVM memory size (1024m, 2g, 524288k, 1073741824).
func sizeMB(s string) int64 {
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

// javaMajor returns the feature release of a java.version string:
// "1.8.0_392" is 8, "17.0.15" is 17, "21" is 21.
func javaMajor(v string) int {
	v = strings.TrimSpace(v)
	if rest, ok := strings.CutPrefix(v, "1."); ok {
		v = rest
	}
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		v = v[:end]
	}
	n, _ := strconv.Atoi(v)
	return n
}
