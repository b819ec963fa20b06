package hostos

import (
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/jvmflags"
	"github.com/rampart-sec/rampart/internal/facts"
)

// The JVM options of a live command line are read by jvmflags, the same
// code that reads the flags of the wso2 collector's start scripts (which
// first expands the script's shell variables).

// jvmArgs returns the JVM options of a java command line: the arguments
// after the launcher and before the main class or -jar file.
func jvmArgs(args []string) []string { return jvmflags.Args(args) }

// parseJVM turns a java command line into JVM facts. Secret-looking
// property values are redacted.
func parseJVM(args []string, source string) facts.JVM { return jvmflags.FromArgv(args, source) }

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
