package scan

import (
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/hostos"
	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/collect/portscan"
	"github.com/rampart-sec/rampart/internal/collect/sshprobe"
	"github.com/rampart-sec/rampart/internal/collect/tlsprobe"
	"github.com/rampart-sec/rampart/internal/collect/wso2"
)

// Config carries what collector constructors need from the command line.
type Config struct {
	// Version is rampart's version, for the HTTP User-Agent.
	Version string
	// PortRate caps the port scanner's connection attempts per second
	// (0: no cap).
	PortRate float64
}

// Collectors returns every collector this build has. It is the one place
// collectors are chosen: a plain list, built on demand, no registration.
func Collectors(cfg Config) []collect.Collector {
	return []collect.Collector{
		wso2.New(),
		tlsprobe.New(tlsprobe.Options{}),
		httpprobe.New(httpprobe.Options{Version: cfg.Version}),
		sshprobe.New(sshprobe.Options{}),
		hostos.New(),
		portscan.New(portscan.Options{UserAgent: "rampart/" + cfg.Version, Rate: cfg.PortRate}),
	}
}
