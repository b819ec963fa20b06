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
}

// OpenPort is one open TCP port and the service identified on it.
type OpenPort struct {
	Port int `json:"port"`
	// Service is tls, http, https, ssh, jmx (Java RMI), ldap, ldaps,
	// mysql, postgresql, hazelcast, or unknown.
	Service string `json:"service"`
	Banner  string `json:"banner,omitempty"`
	// Default names the WSO2 default port this is (e.g. "carbon-https"), if any.
	Default string `json:"default,omitempty"`
	Origin  Origin `json:"origin"`
}
