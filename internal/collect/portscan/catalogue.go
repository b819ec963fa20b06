package portscan

import (
	"slices"
	"sort"
)

// Profiles of the WSO2 products, as target.Profiles names them.
const (
	profileIS   = "wso2-is"
	profileAPIM = "wso2-apim"
	profileMI   = "wso2-mi"
)

// productOffsets is the port offset each product ships with ([server]
// offset in deployment.toml, <Offset> in carbon.xml): the Micro Integrator
// starts at 10, so its pass-through ports are 8290/8253, not 8280/8243.
var productOffsets = map[string]int{profileIS: 0, profileAPIM: 0, profileMI: 10}

// wso2Port is one port of the WSO2 default port catalogue.
type wso2Port struct {
	// base is the port at offset 0; the product listens on base + offset
	// when shifted is set (every Carbon transport, JMX included), on base
	// otherwise (the Hazelcast member port is configured on its own).
	base    int
	name    string
	service string // the protocol expected there (informational)
	shifted bool
	// products lists the profiles that open this port by default.
	products []string
}

// catalogue lists the default ports of WSO2 Identity Server, API Manager
// and Micro Integrator (the products' "default ports" reference pages and
// the shipped default.json / carbon.xml / axis2.xml). Order is by base port.
var catalogue = []wso2Port{
	{4000, "hazelcast", "hazelcast", false, []string{profileIS, profileAPIM}},
	{5672, "amqp", "amqp", true, []string{profileAPIM}},
	{8000, "kdc", "unknown", true, []string{profileIS}},
	{8021, "websub-https", "https", true, []string{profileAPIM}},
	{8099, "gateway-wss", "tls", true, []string{profileAPIM}},
	{8243, "passthrough-https", "https", true, []string{profileAPIM, profileMI}},
	{8280, "passthrough-http", "http", true, []string{profileAPIM, profileMI}},
	{8672, "amqp-ssl", "tls", true, []string{profileAPIM}},
	{8999, "broker-jmx", "jmx", true, []string{profileAPIM}},
	{9021, "websub-http", "http", true, []string{profileAPIM}},
	{9099, "gateway-ws", "http", true, []string{profileAPIM}},
	{9154, "mi-management-api", "https", true, []string{profileMI}},
	{9191, "mi-internal-api", "http", true, []string{profileMI}},
	{9443, "carbon-https", "https", true, []string{profileIS, profileAPIM}},
	{9611, "binary-event", "unknown", true, []string{profileAPIM}},
	{9711, "binary-event-ssl", "tls", true, []string{profileAPIM}},
	{9763, "carbon-http", "http", true, []string{profileIS, profileAPIM}},
	{9999, "jmx-rmi-registry", "jmx", true, []string{profileIS, profileAPIM, profileMI}},
	{10005, "event-management", "unknown", true, []string{profileAPIM}},
	{10389, "embedded-ldap", "ldap", true, []string{profileIS}},
	{10500, "thrift-entitlement", "unknown", true, []string{profileIS}},
	{11111, "jmx-rmi-server", "jmx", true, []string{profileIS, profileAPIM, profileMI}},
	{11224, "event-sync", "unknown", true, []string{profileAPIM}},
}

// defaultName says which WSO2 default port p is, at each product's own
// default offset, and for which products. ok is false for other ports.
func defaultName(p int) (name string, products []string, ok bool) {
	for _, e := range catalogue {
		var ps []string
		for _, prod := range e.products {
			if e.port(productOffsets[prod]) == p {
				ps = append(ps, prod)
			}
		}
		if len(ps) > 0 {
			return e.name, ps, true
		}
	}
	return "", nil, false
}

// port is where a product listens for e at offset.
func (e wso2Port) port(offset int) int {
	if !e.shifted {
		return e.base
	}
	return e.base + offset
}

// profilePorts returns the default ports of profile at offset, plus 22
// for SSH administration, sorted; nil for a profile that is not a WSO2
// product.
func profilePorts(profile string, offset int) []int {
	if _, ok := productOffsets[profile]; !ok {
		return nil
	}
	set := map[int]bool{22: true}
	for _, e := range catalogue {
		if slices.Contains(e.products, profile) {
			if p := e.port(offset); p <= 65535 {
				set[p] = true
			}
		}
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// maxOffset bounds the offsets considered when explaining open ports.
const maxOffset = 1000

// detectOffset finds the port offset under which the most open ports are
// default ports of profile. An offset other than the product's default
// needs at least two shifted ports to agree (one port alone is explained
// by almost any offset); ties go to the product's default, then to the
// smaller offset. ok is false for a non-WSO2 profile.
func detectOffset(profile string, open []int) (offset int, ok bool) {
	def, ok := productOffsets[profile]
	if !ok {
		return 0, false
	}
	isOpen := map[int]bool{}
	for _, p := range open {
		isOpen[p] = true
	}
	score := func(k int) int {
		n := 0
		for _, e := range catalogue {
			if e.shifted && slices.Contains(e.products, profile) && isOpen[e.port(k)] {
				n++
			}
		}
		return n
	}
	best, bestScore := def, score(def)
	cands := map[int]bool{}
	for _, p := range open {
		for _, e := range catalogue {
			if e.shifted && slices.Contains(e.products, profile) && p >= e.base && p-e.base <= maxOffset {
				cands[p-e.base] = true
			}
		}
	}
	ks := make([]int, 0, len(cands))
	for k := range cands {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		if k == def {
			continue
		}
		if s := score(k); s >= 2 && s > bestScore {
			best, bestScore = k, s
		}
	}
	return best, true
}

// commonPorts are the usual service ports "top" adds to the WSO2 ones:
// remote access, web, directory, databases, brokers, caches, container
// and cluster control planes, Java application servers.
var commonPorts = []int{
	21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 636, 993, 995,
	1099, 1433, 1521, 1883, 2049, 2375, 2376, 2379, 3000, 3306, 3389, 4001, 4848, 5000, 5432,
	5601, 5671, 5672, 5701, 5702, 5703, 5900, 5984, 6379, 6443, 7000, 7001, 7002, 8000, 8008,
	8009, 8080, 8081, 8088, 8161, 8443, 8500, 8883, 8888, 9000, 9042, 9090, 9091, 9092,
	9200, 9300, 9418, 10250, 11211, 15672, 27017, 61616,
}

// topOffsets are the port offsets "top" covers for the WSO2 ports: the
// defaults and the small offsets used to run several products on a host.
var topOffsets = []int{0, 1, 2, 3, 4, 5, 10, 11, 12, 13}

// topPorts is the port list scanned for "top": the WSO2 default ports at
// the common offsets, plus commonPorts. Sorted, without duplicates.
func topPorts() []int {
	set := map[int]bool{}
	for _, p := range commonPorts {
		set[p] = true
	}
	for _, e := range catalogue {
		if !e.shifted {
			set[e.base] = true
			continue
		}
		for _, k := range topOffsets {
			set[e.base+k] = true
		}
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// TopPorts returns the ports "top" scans, ascending.
func TopPorts() []int { return topPorts() }

// hintedProbe is the probe to try first on a port, from the catalogue and
// the well-known ports; "" means wait for a banner first.
func hintedProbe(p int) string {
	switch p {
	case 443, 636, 993, 995, 465, 8443, 6443, 2376, 5671, 8883:
		return probeTLS
	case 80, 8080, 8000, 8008, 8081, 8088, 8888, 9200, 5601, 15672, 8161, 9090:
		return probeHTTP
	case 1099:
		return probeJRMI
	case 389:
		return probeLDAP
	case 5432:
		return probePostgres
	case 5701, 5702, 5703:
		return probeHazelcast
	}
	for _, e := range catalogue {
		for _, prod := range e.products {
			for _, k := range []int{productOffsets[prod], 0} {
				if e.port(k) != p {
					continue
				}
				switch e.service {
				case "https", "tls":
					return probeTLS
				case "http":
					return probeHTTP
				case "jmx":
					return probeJRMI
				case "ldap":
					return probeLDAP
				case "hazelcast":
					return probeHazelcast
				case "amqp":
					return probeAMQP
				}
			}
		}
	}
	return ""
}
