package facts

// Ports is the result of a TCP connect scan of one host.
type Ports struct {
	Host string `json:"host"`
	// Scanned is the port specification scanned ("1-65535", "top").
	Scanned string `json:"scanned"`
	// Count of ports tried, and of those that were closed or did not answer.
	Tried    int `json:"tried"`
	Closed   int `json:"closed"`
	Filtered int `json:"filtered"`
	// Open lists the open ports in ascending order, with the service found.
	Open []OpenPort `json:"open"`

	// Address is the IP address scanned (a host name's first address).
	Address string `json:"address,omitempty"`
	// Hosts lists the addresses that answered when the target is a CIDR
	// range (each becomes a node of its own); empty for a single host.
	Hosts []string `json:"hosts"`
	// Source is the local address this scan connected from: the vantage
	// point as the target sees it, unless address translation lies in
	// between. Empty when no port was open.
	Source string `json:"source,omitempty"`
	// SourceInClusterMembers is true when Source lies within the target's
	// declared cluster_members (the scan runs from a cluster member).
	SourceInClusterMembers bool `json:"source_in_cluster_members"`
	// SourceInAllowedSources is true when Source lies within the target's
	// declared allowed_sources.
	SourceInAllowedSources bool `json:"source_in_allowed_sources"`
	// Offset is the WSO2 port offset the open ports show for the target's
	// declared product profile (0 when none is seen or no profile is set).
	Offset int `json:"offset"`
	// ProfilePorts are the default ports of the declared WSO2 profile at
	// that offset, plus 22 (SSH); empty without a WSO2 profile.
	ProfilePorts []int `json:"profile_ports"`
}

// TLSSilentSuffix ends the banner of a tls port whose handshake completed
// but which did not answer the HTTP request sent inside it within the
// identification's wait ("TLS 1.3, silent after the handshake"): a slow
// HTTPS application as much as a protocol that waits for its client, so
// whether HTTP runs there is unknown and every collector is let try it.
const TLSSilentSuffix = ", silent after the handshake"

// OpenPort is one open TCP port and the service identified on it.
type OpenPort struct {
	Port int `json:"port"`
	// Service is tls, http, https, ssh, jmx (Java RMI), ldap, ldaps,
	// mysql, postgresql, hazelcast, amqp, or unknown.
	Service string `json:"service"`
	Banner  string `json:"banner,omitempty"`
	// Default names the WSO2 default port this is (e.g. "carbon-https"), if any.
	Default string `json:"default,omitempty"`
	// Products lists the WSO2 products that use Default (wso2-is,
	// wso2-apim, wso2-mi).
	Products []string `json:"products,omitempty"`
	Origin   Origin   `json:"origin"`
}

// NamespaceSpec says that ports facts come from a node (an inventory host) whose ports are scanned; probe checks read them.
func (Ports) NamespaceSpec() Spec { return Spec{Targets: []string{"node"}, Checks: []string{"probe"}} }
