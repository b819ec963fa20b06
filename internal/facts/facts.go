package facts

import "strings"

// Namespaces are the top-level fact groups. Rules name the ones they need
// in `requires`; each is filled by one kind of collector. Each is a field
// of Facts whose type says, in its NamespaceSpec method, which targets it
// is collected for and which checks may read it (namespace.go).
const (
	NSTarget  = "target"  // what is being scanned, and what the inventory says of it
	NSScan    = "scan"    // how it is being scanned: role, clock, thresholds
	NSProduct = "product" // a WSO2 installation read from its files (file checks)
	NSHost    = "host"    // the operating system (host checks)
	NSTLS     = "tls"     // a live TLS endpoint (probe checks)
	NSHTTP    = "http"    // a live HTTP(S) endpoint (probe checks)
	NSSSH     = "ssh"     // a live SSH server (probe checks)
	NSPorts   = "ports"   // TCP ports of a host (probe checks)
)

// Facts is everything the collectors learned about one target. A nil
// namespace means nothing was collected for it; Status says why. Each
// field but Status is a namespace (its JSON name is the rules' name for it).
type Facts struct {
	Target  Target   `json:"target"`
	Scan    Scan     `json:"scan"`
	Product *Product `json:"product,omitempty"`
	Host    *Host    `json:"host,omitempty"`
	TLS     *TLS     `json:"tls,omitempty"`
	HTTP    *HTTP    `json:"http,omitempty"`
	SSH     *SSH     `json:"ssh,omitempty"`
	Ports   *Ports   `json:"ports,omitempty"`

	// Status records, per namespace or sub-path ("product", "product.jvm"),
	// whether it was collected, failed, does not apply, or has no collector.
	// A path without an entry inherits the state of its nearest parent.
	Status map[string]Status `json:"status,omitempty"`
}

// State is what happened to one fact namespace or sub-path.
type State string

const (
	// Collected: the facts are present and complete.
	Collected State = "collected"
	// Absent: the target offers nothing of this kind (an HTTPS endpoint has
	// no SSH facts); rules that need it are not applicable.
	Absent State = "absent"
	// Failed: a collector tried and could not tell; rules that need it end
	// in error with the reason.
	Failed State = "failed"
	// Unavailable: no collector for this kind of fact exists in this build.
	Unavailable State = "unavailable"
)

// Status is the state of one namespace or sub-path, with the reason when it
// is not Collected.
type Status struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Cause classifies a failure of the network: refused, timeout, reset,
	// closed_early, tls_alert, protocol_mismatch or too_large (the
	// vocabulary of internal/netfail); empty for other failures.
	Cause string `json:"cause,omitempty"`
}

// SetStatus records the state of path, creating the map on first use.
func (f *Facts) SetStatus(path string, s Status) {
	if f.Status == nil {
		f.Status = map[string]Status{}
	}
	f.Status[path] = s
}

// Fail records that path could not be collected, with the reason.
func (f *Facts) Fail(path string, err error) { f.SetStatus(path, Failure(err, "")) }

// Failure is the status of a path that could not be collected because of
// err, whose classified cause (see Status.Cause) is cause.
func Failure(err error, cause string) Status {
	return Status{State: Failed, Reason: OneLine(err.Error()), Cause: cause}
}

// OneLine makes an error's text one line: joined errors (errors.Join)
// print one per line; a reason is one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}

// Lookup returns the state of path: its own entry, else the nearest parent's
// ("product.jvm" falls back to "product"). Within a collected namespace a
// failed sub-path wins, so a rule needing "product" sees no failure while one
// needing "product.jvm" does. ok is false when neither path nor any parent
// has an entry.
func (f *Facts) Lookup(path string) (Status, bool) {
	p := path
	for {
		if s, ok := f.Status[p]; ok {
			return s, true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return Status{}, false
		}
		p = p[:i]
	}
}
