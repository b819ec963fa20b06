package collect

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/target"
)

// Capability is something of the outside world a collector may need, as
// osv-scalibr's plugins declare requirements. The runner decides in one
// place (Offered) which a scan offers on a target; a collector asks
// Env.Can, never the target or the file system, whether it has one.
type Capability uint8

const (
	// Files: a file tree to read, a product directory or a host's root
	// file system (this machine's "/" or a mounted image).
	Files Capability = 1 << iota
	// LiveSystem: the target is the machine rampart runs on, seen through
	// its own "/": its running state (processes, sockets, /proc) is there.
	LiveSystem
	// Commands: allow-listed programs may be run on that machine (the
	// live system, with an executor).
	Commands
	// Network: the target is reached over the network.
	Network
)

var capabilityNames = []string{"files", "the live system", "commands", "the network"}

func (c Capability) String() string {
	var out []string
	for i, n := range capabilityNames {
		if c&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// Needs is what a collector declares of the outside world.
type Needs struct {
	// Requires must all be offered: without one the collector does not
	// run, and its namespaces say which was missing.
	Requires Capability
	// Uses are used when offered (the host collector reads /proc and runs
	// commands only on the live system).
	Uses Capability
}

// Offered says which capabilities a scan offers collectors on target t:
// a product directory and a host's root are file trees; a host whose
// root is "/" is the live system, where commands run when env has an
// executor; endpoints and nodes are reached over the network.
func Offered(t target.Target, env *Env) Capability {
	var c Capability
	switch t.Kind {
	case target.Directory:
		c |= Files
	case target.Host:
		c |= Files
		if t.Dir == "" || t.Dir == "/" {
			c |= LiveSystem
			if env != nil && env.Exec != nil {
				c |= Commands
			}
		}
	case target.Endpoint, target.Node:
		c |= Network
	}
	return c
}

// Can reports whether the runner granted the collector c on this target.
func (e *Env) Can(c Capability) bool { return e != nil && e.Granted&c == c }
