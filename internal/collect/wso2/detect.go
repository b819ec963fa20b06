package wso2

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
)

// Profiles.
const (
	ProfileIS   = "wso2-is"
	ProfileAPIM = "wso2-apim"
	ProfileMI   = "wso2-mi"
)

// layout says where a product keeps its files: IS and API-M under
// repository/conf, MI under conf.
type layout struct {
	conf string // repository/conf or conf
}

func (l layout) path(rel string) string { return join(l.conf, rel) }

const resources = "repository/resources/conf"

// detection is what the installation says it is.
type detection struct {
	profile string
	// detected is the profile the files show when a forced one differs.
	detected string
	name     string
	version  string
	origin   facts.Origin
	layout   layout
}

var (
	versionTxt   = regexp.MustCompile(`(?i)WSO2\s+(Identity Server|API Manager|Micro Integrator|Enterprise Integrator)\s+v?([0-9][0-9A-Za-z.\-]*)`)
	userAgent    = regexp.MustCompile(`^WSO2 (AM|IS|Identity Server|API Manager) ([0-9][0-9.]*)`)
	dirName      = regexp.MustCompile(`(?i)(?:^|[^a-z])(wso2)?(is|am|apim|mi|ei)[-_]([0-9]+\.[0-9]+\.[0-9]+)`)
	placeholder  = regexp.MustCompile(`^[$@]`)
	userAgentKey = regexp.MustCompile(`"server\.userAgent"\s*:\s*"([^"]*)"`)
	apimTable    = regexp.MustCompile(`(?m)^\s*\[\[?apim\.`)
)

var profileByName = map[string]string{
	"identity server":       ProfileIS,
	"is":                    ProfileIS,
	"api manager":           ProfileAPIM,
	"am":                    ProfileAPIM,
	"apim":                  ProfileAPIM,
	"micro integrator":      ProfileMI,
	"mi":                    ProfileMI,
	"enterprise integrator": ProfileMI,
	"ei":                    ProfileMI,
}

var names = map[string]string{
	ProfileIS:   "WSO2 Identity Server",
	ProfileAPIM: "WSO2 API Manager",
	ProfileMI:   "WSO2 Micro Integrator",
}

// detect names the product in h. It needs a deployment.toml; everything
// else (bin/version.txt, carbon.xml, default.json, the directory's name,
// the toml's own tables) narrows profile and version.
func detect(h *home, forced string) (detection, error) {
	var d detection
	switch {
	case h.exists("repository/conf/deployment.toml"):
		d.layout = layout{conf: "repository/conf"}
	case h.exists("conf/deployment.toml"):
		d.layout = layout{conf: "conf"}
		d.profile = ProfileMI
	default:
		return d, fmt.Errorf("%s: not a WSO2 product installation: no repository/conf/deployment.toml or conf/deployment.toml", h.dir)
	}
	// bin/version.txt: "WSO2 API Manager v4.1.0".
	if b, err := h.read("bin/version.txt"); err == nil {
		if m := versionTxt.FindStringSubmatch(string(b)); m != nil {
			d.profile = profileByName[strings.ToLower(m[1])]
			d.version = m[2]
			d.origin = facts.Origin{File: "bin/version.txt", Line: 1}
		}
	}
	// carbon.xml <Name>/<Version> (rendered with real values in packs).
	if d.version == "" || d.profile == "" {
		if b, err := h.read(d.layout.path("carbon.xml")); err == nil {
			if doc, err := xmlconf.Parse(b); err == nil {
				name, ver := doc.First("Server/Name"), doc.First("Server/Version")
				if name != nil && !placeholder.MatchString(name.Text) {
					if p := profileByName[strings.ToLower(strings.TrimPrefix(name.Text, "WSO2 "))]; p != "" && d.profile == "" {
						d.profile = p
					}
				}
				if ver != nil && !placeholder.MatchString(ver.Text) && d.version == "" {
					d.version = ver.Text
					d.origin = facts.Origin{File: d.layout.path("carbon.xml"), Line: ver.Line}
				}
			}
		}
	}
	// default.json server.userAgent ("WSO2 AM 4.1.0"); MI's says 1.0.0, so skip it there.
	if (d.version == "" || d.profile == "") && d.profile != ProfileMI {
		if b, err := h.read(resources + "/default.json"); err == nil {
			if m := userAgentKey.FindSubmatch(b); m != nil {
				if um := userAgent.FindStringSubmatch(string(m[1])); um != nil {
					if d.profile == "" {
						d.profile = profileByName[strings.ToLower(um[1])]
					}
					if d.version == "" {
						d.version = um[2]
						d.origin = facts.Origin{File: resources + "/default.json", Note: "server.userAgent"}
					}
				}
			}
		}
	}
	// The directory name of an unpacked distribution: wso2am-4.1.0.
	if m := dirName.FindStringSubmatch(filepath.Base(filepath.Clean(h.dir))); m != nil {
		if d.profile == "" {
			d.profile = profileByName[strings.ToLower(m[2])]
		}
		if d.version == "" {
			d.version = m[3]
			d.origin = facts.Origin{Note: "from the directory name " + filepath.Base(filepath.Clean(h.dir))}
		}
	}
	// Finally the toml's own tables: [apim.*] only exists in API-M.
	if d.profile == "" {
		d.profile = ProfileIS
		if b, err := h.read(d.layout.path("deployment.toml")); err == nil && apimTable.Match(b) {
			d.profile = ProfileAPIM
		}
		if d.origin.IsZero() {
			d.origin = facts.Origin{File: d.layout.path("deployment.toml"), Note: "profile guessed from the tables of deployment.toml"}
		}
	}
	if forced != "" && forced != d.profile {
		d.detected = d.profile // the files say otherwise: keep it to say so
		d.profile = forced
	}
	d.name = names[d.profile]
	return d, nil
}
