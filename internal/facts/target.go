package facts

// Target describes what is being scanned and what the operator declared
// about it in the inventory. Declarations are facts too: a rule compares
// what it observes (open ports, reachable paths) with what is expected.
type Target struct {
	// Name identifies the target in reports: a directory path, host:port,
	// a URL, "local", or the inventory entry's name.
	Name string `json:"name"`
	// ID is the target's identity, what findings are fingerprinted by: a
	// directory's cleaned absolute path, an endpoint's host:port, or the
	// inventory entry's name.
	ID string `json:"id,omitempty"`
	// Kind is "directory", "endpoint", "host" (this machine or a mounted
	// root) or "node" (an inventory host whose ports are scanned).
	Kind string `json:"kind"`
	// Profiles the target runs under: wso2-is, wso2-apim, wso2-mi,
	// webhook-relay, linux-host. Empty when unknown (all rules eligible).
	Profiles []string `json:"profiles"`

	Directory string `json:"directory,omitempty"`
	Address   string `json:"address,omitempty"` // host:port
	Host      string `json:"host,omitempty"`
	Port      int    `json:"port,omitempty"`
	Scheme    string `json:"scheme,omitempty"` // https, http, ssh, tcp
	URL       string `json:"url,omitempty"`

	// Role is the vantage point the scan runs from: dmz, internal or
	// management. Exposure rules judge by it; empty means not declared.
	Role string `json:"role,omitempty"`

	ExpectedPorts   []int    `json:"expected_ports"`
	AllowedPaths    []string `json:"allowed_paths"`
	ClusterMembers  []string `json:"cluster_members"`
	BackupLocations []string `json:"backup_locations"`
	HealthPaths     []string `json:"health_paths"`
	// AllowedSources are the CIDRs that may reach a webhook endpoint (the
	// sender's published source addresses).
	AllowedSources []string `json:"allowed_sources"`
	// Hostname is the public name clients use; certificates must match it.
	Hostname string `json:"hostname,omitempty"`
	// BehindProxy says the product sits behind a reverse proxy or LB.
	BehindProxy bool `json:"behind_proxy"`
	// MinUpdateLevel is the product update level the operator requires.
	MinUpdateLevel int `json:"min_update_level"`
	// Nodes is how many nodes the inventory lists for this deployment.
	Nodes int `json:"nodes"`
}

// HasProfile reports whether the target runs under profile p.
func (t Target) HasProfile(p string) bool {
	for _, x := range t.Profiles {
		if x == p {
			return true
		}
	}
	return false
}

// NamespaceSpec says that target facts come from what the scan and the inventory say of the target: on every target.
func (Target) NamespaceSpec() Spec { return Spec{} }
