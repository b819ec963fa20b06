package zone

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Observation is what one zone reached of one inventory target: the
// ports its scan tried and found open, and the HTTP paths it probed on
// them. Agents send it with each result.
type Observation struct {
	// Source is the address the zone's connections came from, as the
	// target sees it (unless address translation lies in between).
	Source string `json:"source,omitempty"`
	// Address is the IP address scanned.
	Address string `json:"address,omitempty"`
	// Scanned lists the ports tried; Open those that accepted.
	Scanned []int      `json:"scanned"`
	Open    []OpenPort `json:"open"`
	Paths   []PathSeen `json:"paths"`
	// Offset is the WSO2 port offset the open ports show (0 when none).
	Offset int `json:"offset,omitempty"`
	// ClusterMember and AllowedSource say whether Source lies in the
	// target's cluster_members and allowed_sources.
	ClusterMember bool `json:"cluster_member,omitempty"`
	AllowedSource bool `json:"allowed_source,omitempty"`
	// Errors are collector failures that leave parts unknown.
	Errors []string `json:"errors,omitempty"`
}

// OpenPort is one open port and the service found on it.
type OpenPort struct {
	Port    int    `json:"port"`
	Service string `json:"service"`
}

// PathSeen is one HTTP path probed on a port.
type PathSeen struct {
	Port     int    `json:"port"`
	Path     string `json:"path"`
	Category string `json:"category,omitempty"`
	Status   int    `json:"status"`
	// Reachable: answered with content or asked for credentials.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

// Limits on an observation a result may carry (an agent's result is
// untrusted input to the server).
const (
	maxObservedPorts = 65535
	maxObservedPaths = 4096
	maxObservedText  = 512
)

// Validate checks an observation received from an agent.
func (o *Observation) Validate() error {
	if len(o.Scanned) > maxObservedPorts || len(o.Open) > maxObservedPorts {
		return fmt.Errorf("observation: more than %d ports", maxObservedPorts)
	}
	if len(o.Paths) > maxObservedPaths || len(o.Errors) > maxObservedPaths {
		return fmt.Errorf("observation: more than %d paths or errors", maxObservedPaths)
	}
	for _, p := range o.Scanned {
		if p < 1 || p > 65535 {
			return fmt.Errorf("observation: scanned port %d out of range", p)
		}
	}
	for _, p := range o.Open {
		if p.Port < 1 || p.Port > 65535 || len(p.Service) > maxObservedText {
			return fmt.Errorf("observation: open port %d out of range", p.Port)
		}
	}
	for _, p := range o.Paths {
		if p.Port < 1 || p.Port > 65535 || !strings.HasPrefix(p.Path, "/") || len(p.Path) > maxObservedText || len(p.Error) > maxObservedText {
			return fmt.Errorf("observation: bad path probe %d %.40q", p.Port, p.Path)
		}
	}
	if len(o.Source) > maxObservedText || len(o.Address) > maxObservedText {
		return fmt.Errorf("observation: source or address too long")
	}
	return nil
}

// Port returns what the observation says of a port.
func (o *Observation) Port(p int) (Seen, string) {
	for _, op := range o.Open {
		if op.Port == p {
			return Reachable, op.Service
		}
	}
	if slices.Contains(o.Scanned, p) {
		return Blocked, ""
	}
	return Unknown, ""
}

// Path returns what the observation says of a path on a port: reachable
// when any probe under it answered, blocked when its port is blocked or
// every probe under it was refused, unknown otherwise. detail is the
// probe that decided ("/carbon/admin/login.jsp -> 200").
func (o *Observation) Path(port int, path string) (Seen, string) {
	var matched, blocked int
	var errs []string
	for _, p := range o.Paths {
		if p.Port != port || !under(p.Path, path) {
			continue
		}
		matched++
		switch {
		case p.Reachable:
			return Reachable, fmt.Sprintf("%s -> %d", p.Path, p.Status)
		case p.Error != "":
			errs = append(errs, p.Path+": "+p.Error)
		default:
			blocked++
		}
	}
	if st, _ := o.Port(port); st == Blocked {
		return Blocked, fmt.Sprintf("port %d blocked", port)
	}
	switch {
	case matched == 0:
		return Unknown, "not probed"
	case len(errs) > 0:
		return Unknown, strings.Join(errs, "; ")
	}
	_ = blocked
	return Blocked, "refused or not found"
}

// under reports whether probe path p lies under path a ("/carbon" covers
// "/carbon/admin/login.jsp" and "/carbon?x").
func under(p, a string) bool {
	a = strings.TrimSuffix(a, "/")
	if a == "" {
		return true
	}
	return p == a || p == a+"/" || strings.HasPrefix(p, a+"/") || strings.HasPrefix(p, a+"?")
}

// Observe builds a zone's observation of an inventory target from the
// facts of its scan: the node's port scan (or, for an endpoint, extra: a
// port scan of its host made for the purpose), and the HTTP paths probed
// on every endpoint found. all holds the facts of the target and of the
// targets it led to (the services found on a node), by target name.
func Observe(t target.Target, all []*facts.Facts, extra *facts.Ports) *Observation {
	o := &Observation{Scanned: []int{}, Open: []OpenPort{}, Paths: []PathSeen{}}
	ports := extra
	for _, f := range all {
		if f != nil && f.Target.Name == t.Name && f.Ports != nil {
			ports = f.Ports
		}
	}
	if ports != nil {
		o.Source, o.Address, o.Offset = ports.Source, ports.Address, ports.Offset
		o.ClusterMember, o.AllowedSource = ports.SourceInClusterMembers, ports.SourceInAllowedSources
		if specPorts, err := target.ParsePorts(ports.Scanned); err == nil && specPorts != nil {
			o.Scanned = specPorts
		}
		for _, p := range ports.Open {
			o.Open = append(o.Open, OpenPort{Port: p.Port, Service: p.Service})
			if !slices.Contains(o.Scanned, p.Port) {
				o.Scanned = append(o.Scanned, p.Port)
			}
		}
		sort.Ints(o.Scanned)
	}
	for _, f := range all {
		if f == nil {
			continue
		}
		for k, st := range f.Status {
			if st.State == facts.Failed {
				o.Errors = append(o.Errors, fmt.Sprintf("%s %s: %s", f.Target.Name, k, st.Reason))
			}
		}
		if f.HTTP == nil {
			continue
		}
		port := f.Target.Port
		for _, p := range f.HTTP.Paths {
			if p.CatchAll {
				continue // a proxy's catch-all page says nothing about the path
			}
			o.Paths = append(o.Paths, PathSeen{Port: port, Path: p.Path, Category: p.Category, Status: p.Status,
				Reachable: p.Reachable || p.AuthRequired, Error: p.Error})
		}
	}
	sort.Strings(o.Errors)
	sort.Slice(o.Paths, func(i, j int) bool {
		a, b := o.Paths[i], o.Paths[j]
		return a.Port < b.Port || a.Port == b.Port && a.Path < b.Path
	})
	return o
}

// ProbePorts are the ports a zone's scan of a target must cover for its
// expectations to be judged: the expectation ports (at every offset the
// defaults may sit at is not knowable beforehand, so offset 0), the
// endpoint's own port, and for a node the ports its spec names.
func ProbePorts(t target.Target) []int {
	set := map[int]bool{}
	for _, e := range Expectations(t, 0) {
		set[e.Item.Port] = true
	}
	if t.Port > 0 {
		set[t.Port] = true
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// PortSpec returns a node's port specification as an explicit list
// widened by extra ports: "top" (or "") becomes the top ports given.
// Agents then know exactly which ports were tried, so a port absent from
// the open list is blocked rather than unknown.
func PortSpec(spec string, top, extra []int) (string, error) {
	ports, err := target.ParsePorts(spec)
	if err != nil {
		return "", err
	}
	if ports == nil {
		ports = top
	}
	set := map[int]bool{}
	for _, p := range ports {
		set[p] = true
	}
	for _, p := range extra {
		set[p] = true
	}
	all := make([]int, 0, len(set))
	for p := range set {
		all = append(all, p)
	}
	sort.Ints(all)
	return compact(all), nil
}

// compact writes sorted ports as a list with ranges: "22,443,9443-9445".
func compact(ports []int) string {
	var b strings.Builder
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ports[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ports[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Trim keeps of an observation's HTTP paths only those the matrix can
// use: admin paths, paths that answered, and paths under one of the
// target's expectations. An endpoint probed for dozens of paths that are
// not there then sends a few, not all.
func (o *Observation) Trim(t target.Target) {
	var want []string
	for _, e := range Expectations(t, o.Offset) {
		if e.Item.Path != "" {
			want = append(want, e.Item.Path)
		}
	}
	kept := o.Paths[:0]
	for _, p := range o.Paths {
		keep := p.Reachable || IsAdminPath(p.Path)
		for _, w := range want {
			keep = keep || under(p.Path, w)
		}
		if keep {
			kept = append(kept, p)
		}
	}
	o.Paths = kept
}
