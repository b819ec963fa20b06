package wso2

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/wso2/xmlconf"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// Profiles.
const (
	ProfileIS   = "wso2-is"
	ProfileAPIM = "wso2-apim"
	ProfileMI   = "wso2-mi"
)

// detection is what the installation says it is.
type detection struct {
	profile string
	// detected is the profile the files show when a forced one differs.
	detected string
	name     string
	version  string
	origin   facts.Origin
	// conf is the configuration directory the files use (repository/conf
	// or conf), whatever profile is forced.
	conf string
	// kb is what products.yaml says of this product and version.
	kb *wso2kb.Layout
}

// path is rel under the configuration directory.
func (d detection) path(rel string) string { return join(d.conf, rel) }

// detect names the product in h. It needs a deployment.toml; everything
// else (bin/version.txt, carbon.xml, default.json, the directory's name,
// the toml's own tables) narrows profile and version, in the order
// products.yaml's detection section gives.
func detect(h *home, forced string, kb *wso2kb.Catalog) (detection, error) {
	var d detection
	var tried []string
	for _, c := range kb.ConfDirs() {
		f := join(c.Dir, "deployment.toml")
		tried = append(tried, f)
		if h.exists(f) {
			d.conf, d.profile = c.Dir, c.Profile
			break
		}
	}
	if d.conf == "" {
		return d, fmt.Errorf("%s: not a WSO2 product installation: no %s", h.dir, strings.Join(tried, " or "))
	}
	det := kb.Detection
	// bin/version.txt: "WSO2 API Manager v4.1.0".
	if b, err := h.read(det.VersionFile); err == nil {
		if m := kb.VersionText().FindStringSubmatch(string(b)); m != nil {
			d.profile = kb.ProfileNamed(m[1])
			d.version = m[2]
			d.origin = facts.Origin{File: det.VersionFile, Line: 1}
		}
	}
	// carbon.xml <Name>/<Version> (rendered with real values in packs).
	if d.version == "" || d.profile == "" {
		if b, err := h.read(d.path("carbon.xml")); err == nil {
			if doc, err := xmlconf.Parse(b); err == nil {
				name, ver := doc.First(det.CarbonName), doc.First(det.CarbonVersion)
				if name != nil && !placeholder(name.Text) {
					if p := kb.ProfileNamed(name.Text); p != "" && d.profile == "" {
						d.profile = p
					}
				}
				if ver != nil && !placeholder(ver.Text) && d.version == "" {
					d.version = ver.Text
					d.origin = facts.Origin{File: d.path("carbon.xml"), Line: ver.Line}
				}
			}
		}
	}
	// default.json server.userAgent ("WSO2 AM 4.1.0"), where the product
	// says its own version there.
	if (d.version == "" || d.profile == "") && trustsUserAgent(kb, d.profile) {
		def := "repository/resources/conf/default.json"
		if l, err := kb.Layout(kb.Detection.Fallback, ""); err == nil {
			def = l.InResources(l.Mapper.Defaults)
		}
		if b, err := h.read(def); err == nil {
			if m := kb.UserAgentEntry().FindSubmatch(b); m != nil {
				if um := kb.UserAgent().FindStringSubmatch(string(m[1])); um != nil {
					if d.profile == "" {
						d.profile = kb.ProfileNamed(um[1])
					}
					if d.version == "" {
						d.version = um[2]
						d.origin = facts.Origin{File: def, Note: det.UserAgentKey}
					}
				}
			}
		}
	}
	// The directory name of an unpacked distribution: wso2am-4.1.0.
	base := filepath.Base(filepath.Clean(h.dir))
	if m := kb.DirName().FindStringSubmatch(base); m != nil {
		if d.profile == "" {
			d.profile = kb.ProfileNamed(m[2])
		}
		if d.version == "" {
			d.version = m[3]
			d.origin = facts.Origin{Note: "from the directory name " + base}
		}
	}
	// Finally the toml's own tables: [apim.*] only exists in API-M.
	if d.profile == "" {
		d.profile = det.Fallback
		if b, err := h.read(d.path("deployment.toml")); err == nil {
			if p := kb.ProfileByTables(b); p != "" {
				d.profile = p
			}
		}
		if d.origin.IsZero() {
			d.origin = facts.Origin{File: d.path("deployment.toml"), Note: "profile guessed from the tables of deployment.toml"}
		}
	}
	if forced != "" && forced != d.profile {
		d.detected = d.profile // the files say otherwise: keep it to say so
		d.profile = forced
	}
	// A forced profile that is no WSO2 product (linux-host) is judged as
	// asked, with what is known of the product the files show.
	known := kb.Name(d.profile) != ""
	lp := d.profile
	if !known {
		lp = d.detected
	}
	l, err := kb.Layout(lp, d.version)
	if err != nil {
		return d, err
	}
	d.kb = l
	if known {
		d.name = l.Name
	}
	return d, nil
}

// placeholder: a carbon.xml value not rendered ($...) or an Ant token (@...).
func placeholder(s string) bool { return strings.HasPrefix(s, "$") || strings.HasPrefix(s, "@") }

// trustsUserAgent: whether default.json's userAgent tells the version of
// profile (any product's, while the profile is not known yet).
func trustsUserAgent(kb *wso2kb.Catalog, profile string) bool {
	if profile == "" {
		return true
	}
	l, err := kb.Layout(profile, "")
	return err == nil && l.TrustUserAgent
}
