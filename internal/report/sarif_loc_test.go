package report

import (
	"net/url"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

// TestSarifLocations: relative file URIs under the right base, an absolute
// host path under ROOTFS, endpoints (IPv6 too) as logical locations with a
// valid relative pseudo-artifact, a directory with a space in its name.
func TestSarifLocations(t *testing.T) {
	r := &finding.Report{Targets: []finding.TargetInfo{
		{Name: "/opt/my wso2/am", ID: "/opt/my wso2/am", Kind: "directory"},
		{Name: "/opt/is", ID: "/opt/is", Kind: "directory"},
		{Name: "https://[::1]:9443/", ID: "[::1]:9443", Kind: "endpoint"},
		{Name: "local", ID: "local", Kind: "host"},
		// An inventory entry's name is its identity; its files are under
		// its directory.
		{Name: "gw", ID: "gw", Dir: "/srv/apim", Kind: "directory"},
	}}
	l := newSarifLocator(r)
	if l.bases["%SRCROOT%"].URI != "file:///opt/my%20wso2/am/" || l.bases["SRCROOT2"].URI != "file:///opt/is/" || l.bases["SRCROOT3"].URI != "file:///srv/apim/" {
		t.Fatalf("bases %+v", l.bases)
	}
	for _, c := range []struct {
		target, source, uri, base string
	}{
		{"/opt/my wso2/am", "repository/conf/deployment.toml", "repository/conf/deployment.toml", "%SRCROOT%"},
		{"/opt/is", "repository/conf/a b.xml", "repository/conf/a%20b.xml", "SRCROOT2"},
		{"local", "/etc/ssh/sshd_config", "etc/ssh/sshd_config", "ROOTFS"},
		{"gw", "repository/conf/deployment.toml", "repository/conf/deployment.toml", "SRCROOT3"},
	} {
		ls := l.locations(finding.Finding{Target: c.target, Evidence: []finding.Evidence{{Source: c.source, Line: 3}}})
		a := ls[0].PhysicalLocation.ArtifactLocation
		if a.URI != c.uri || a.URIBaseID != c.base || ls[0].PhysicalLocation.Region.StartLine != 3 {
			t.Errorf("%s %s: %+v", c.target, c.source, ls[0])
		}
	}
	ep := l.locations(finding.Finding{Target: "https://[::1]:9443/", Evidence: []finding.Evidence{{Source: "https://[::1]:9443/carbon", Path: "http.paths"}}})
	a := ep[0].PhysicalLocation.ArtifactLocation
	if u, err := url.Parse(a.URI); err != nil || u.IsAbs() || a.URIBaseID != "" || ep[0].LogicalLocations[0].FullyQualifiedName != "[::1]:9443" {
		t.Fatalf("endpoint location %+v (%v)", ep[0], err)
	}
	if relURI("a:b/c") != "./a:b/c" {
		t.Fatal("a colon in the first segment must not read as a scheme")
	}
}
