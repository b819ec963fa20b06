package scan

import (
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/sshprobe"
)

// Config carries what collector constructors need from the command line.
type Config struct {
	// Version is rampart's version, for the HTTP User-Agent.
	Version string
}

// Collectors returns every collector this build has. It is the one place
// collectors are chosen: a plain list, built on demand, no registration.
func Collectors(cfg Config) []collect.Collector {
	_ = cfg
	return []collect.Collector{
		sshprobe.New(sshprobe.Options{}),
	}
}
