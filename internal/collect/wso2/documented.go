package wso2

import "github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"

// A product pack merges, at build time, the default.json of the kernel and
// of every feature into the repository/resources/conf/default.json it
// ships. Files at hand can lack part of that: a source reconstruction
// holds only the product's and the kernel's inputs (not the identity
// features'), a deployment.toml copied out of a container holds nothing
// else. A value only those defaults hold is then taken, for every rule the
// same way, from the product's documented default, and the evidence says
// so; where no default is documented the value stays unknown and the rules
// that need it end in error (Product.DefaultsIncomplete).

// documentedDefault is one documented product default.
type documentedDefault struct {
	profiles []string
	key      string
	value    any
	source   string
}

// documentedDefaults are the defaults the rules read that the files at
// hand may lack. Sources: the shipped default.json of real packs (API-M
// 4.1/4.5, IS 7.1) and the product repositories' default.json, as recorded
// in shared/spec/wso2-config-map.md (rows 7a, 8, 22).
var documentedDefaults = []documentedDefault{
	{[]string{ProfileIS}, "transport.https.sslHostConfig.properties.protocols", "+TLSv1,+TLSv1.1,+TLSv1.2",
		"the default.json of IS 5.11 to 7.1, whose list overrides the kernel's"},
	{[]string{ProfileIS, ProfileAPIM}, "transport.https.properties.server", "WSO2 Carbon Server",
		"the carbon kernel's default.json, the HTTPS connector's server attribute"},
	{[]string{ProfileIS, ProfileAPIM}, "transport.http.properties.server", "WSO2 Carbon Server",
		"the carbon kernel's default.json, the HTTP connector's server attribute"},
	{[]string{ProfileIS, ProfileAPIM}, "session_data.cleanup.clean_expired_session_data_in_chunks_of", "8192",
		"the identity framework's default.json, 8192 in the IS 7.1, API-M 4.1 and 4.5 packs"},
	{[]string{ProfileIS}, "monitoring.jmx.rmi_server_start", false,
		"the default.json of IS 5.11 to 7.1 (rendered as StartRMIServer false in jmx.xml)"},
	{[]string{ProfileAPIM, ProfileMI}, "monitoring.jmx.rmi_server_start", true,
		"the default.json of API-M 3.2 to 4.5 and MI (rendered as StartRMIServer true in jmx.xml)"},
}

// documentedEntries are the documented defaults of a profile, as the
// lowest configuration layer.
func documentedEntries(profile string) []tomlcfg.Entry {
	var out []tomlcfg.Entry
	for _, d := range documentedDefaults {
		for _, p := range d.profiles {
			if p == profile {
				out = append(out, tomlcfg.Entry{Key: d.key, Value: d.value, File: "documented product default", Layer: tomlcfg.Documented, From: d.source})
			}
		}
	}
	return out
}
