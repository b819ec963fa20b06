package scan

import (
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

func TestExpandNodes(t *testing.T) {
	decl := target.Declared{Role: "dmz", Ports: "top", ExpectedPorts: []int{443}}
	// A CIDR node leads to one node per live address.
	rng := target.Target{Name: "dc1", Kind: target.Node, Host: "192.0.2.0/29", Profile: "wso2-is", Decl: decl}
	got := Expand(rng, &facts.Facts{Ports: &facts.Ports{Hosts: []string{"192.0.2.1", "192.0.2.3"}}})
	if len(got) != 2 || got[0].Name != "192.0.2.1" || got[0].Kind != target.Node || got[1].Host != "192.0.2.3" ||
		got[0].Profile != "wso2-is" || got[0].Decl.Role != "dmz" || got[0].Decl.Ports != "top" {
		t.Fatalf("range: %+v", got)
	}
	// A node leads to an endpoint per TLS, HTTP or SSH service; IPv6
	// names are bracketed; other services are not probed further.
	n := target.Target{Name: "::1", Kind: target.Node, Host: "::1", Decl: decl}
	got = Expand(n, &facts.Facts{Ports: &facts.Ports{Open: []facts.OpenPort{
		{Port: 22, Service: "ssh"}, {Port: 3306, Service: "mysql"}, {Port: 8444, Service: "tls", Banner: "TLS alert"}, {Port: 9443, Service: "https"}, {Port: 9763, Service: "http"},
		{Port: 636, Service: "ldaps", Banner: "TLS 1.2"}, {Port: 9711, Service: "tls", Banner: "TLS 1.2"},
		{Port: 8243, Service: "tls", Banner: "TLS 1.3" + facts.TLSSilentSuffix},
	}}})
	// A TLS port whose identification handshake failed keeps an open scheme
	// (HTTP may still run there), as does one silent after its handshake
	// (a slow HTTPS application); TLS known not to answer HTTP gets "tls".
	want := map[string]string{"[::1]:8243": "", "[::1]:22": "ssh", "[::1]:8444": "", "[::1]:9443": "https", "[::1]:9763": "http", "[::1]:636": "tls", "[::1]:9711": "tls"}
	if len(got) != len(want) {
		t.Fatalf("node: %+v", got)
	}
	for _, e := range got {
		if want[e.Name] != e.Scheme || e.Kind != target.Endpoint || e.Host != "::1" || e.Decl.Role != "dmz" {
			t.Errorf("endpoint %+v", e)
		}
	}
	named := target.Target{Name: "node1", Kind: target.Node, Host: "192.0.2.1"}
	if got := Expand(named, &facts.Facts{Ports: &facts.Ports{Open: []facts.OpenPort{{Port: 443, Service: "https"}}}}); len(got) != 1 || got[0].Name != "node1:443" {
		t.Errorf("named node: %+v", got)
	}
}

// A product home found running carries the host's memory and its
// process's JDK to the product's facts (RT-002, RT-003 file checks).
func TestRunningProductFacts(t *testing.T) {
	host := target.Target{Name: "local", Kind: target.Host, Dir: "/"}
	kids := Expand(host, &facts.Facts{Host: &facts.Host{MemoryMB: 8192, Processes: []facts.Process{
		{PID: 7, ProductHome: "/opt/wso2is-7.1.0", JDKVersion: "17.0.15", JDKMajor: 17},
	}}})
	if len(kids) != 1 || kids[0].Running == nil || kids[0].Running.MemoryMB != 8192 {
		t.Fatalf("children: %+v", kids)
	}
	f := &facts.Facts{Product: &facts.Product{JVM: facts.JVM{HeapMaxMB: 2048}}}
	running(kids[0], f)
	if f.Product.MachineMemoryMB != 8192 || f.Product.Java.Major != 17 {
		t.Fatalf("product facts: %+v", f.Product)
	}
	// What the files say wins over the process.
	g := &facts.Facts{Product: &facts.Product{Java: facts.JavaRuntime{Version: "21.0.2", Major: 21}}}
	running(kids[0], g)
	if g.Product.Java.Major != 21 {
		t.Fatalf("java: %+v", g.Product.Java)
	}
}
