package wso2

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/jvmflags"
	"github.com/rampart-sec/rampart/internal/collect/wso2/log4j"
	"github.com/rampart-sec/rampart/internal/collect/wso2/script"
	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/facts"
)

// startScripts are each profile's start scripts, most specific first.
var startScripts = map[string][]string{
	ProfileIS:   {"bin/wso2server.sh"},
	ProfileAPIM: {"bin/api-manager.sh", "bin/wso2server.sh"},
	ProfileMI:   {"bin/micro-integrator.sh", "bin/wso2server.sh"},
}

// jvm reads the start script's java command line: the script package
// expands the variables the launch line uses, jvmflags turns the options
// that always apply (not the --debug branch's) into facts.
func (p *product) jvm() (facts.JVM, error) {
	j := facts.JVM{Properties: map[string]facts.Setting{}, Options: []facts.Setting{}}
	var tried []string
	for _, f := range startScripts[p.det.profile] {
		tried = append(tried, f)
		if !p.h.exists(f) {
			continue
		}
		b, err := p.h.read(f)
		if err != nil {
			return j, err
		}
		parsed := script.Parse(b)
		if !parsed.Found {
			return j, fmt.Errorf("%s: no java command line found in the start script", f)
		}
		var opts []jvmflags.Option
		for _, o := range parsed.Options {
			if !o.Conditional {
				opts = append(opts, jvmflags.Option{Text: o.Text, Origin: facts.Origin{File: f, Line: o.Line}})
			}
		}
		return jvmflags.Build(f, opts), nil
	}
	return j, fmt.Errorf("no start script found (%s): the JVM options cannot be read from the files", strings.Join(tried, ", "))
}

var (
	offWhenFalse = regexp.MustCompile(`(?i)(hostname_verification_enabled|host_name_verification|enable\.hostname\.verification|verify_hostname|hostname_verification)'?$`)
	offWhenTrue  = regexp.MustCompile(`(?i)(trust_?all(_certificates)?|TrustAllCertificates|disable_?hostname_?verification|skip_?(ssl|tls)_?verif\w*|insecure)'?$`)
)

// logging reads log4j2.properties.
func (p *product) logging() (facts.Logging, error) {
	f := p.det.layout.path("log4j2.properties")
	l := facts.Logging{File: f, Appenders: []facts.Appender{}}
	b, err := p.h.read(f)
	if err != nil {
		return l, err
	}
	for _, a := range log4j.Appenders(log4j.ParseProperties(b)) {
		l.Appenders = append(l.Appenders, facts.Appender{
			Name: a.Name, Type: a.Type, FileName: a.FileName, FilePattern: a.FilePattern,
			Policies: nonNil(a.Policies), MaxBackups: a.MaxBackups, Pattern: a.Pattern,
			Origin: facts.Origin{File: f, Line: a.Line, Key: "appender." + a.ID},
		})
	}
	if len(l.Appenders) == 0 {
		return l, errors.New(f + ": no appender declared")
	}
	return l, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ports is the port plan: the offset and the main listeners.
func (p *product) ports() facts.PortPlan {
	pp := facts.PortPlan{Offset: p.offset(), DefaultOffset: p.defaultOffset(), Listeners: []facts.PortSetting{}}
	var unknown []string
	notNumber := func(key, text string) {
		if u := p.unresolved(text); u != "" {
			unknown = append(unknown, key+": "+u)
		} else {
			unknown = append(unknown, key+" is "+strconv.Quote(text)+", not a number")
		}
	}
	if v, ok := p.cfg.Lookup("server.offset"); ok {
		pp.OffsetOrigin = p.origin(v.Source)
		if t := strings.TrimSpace(p.expand(v.Text())); t != "" {
			if _, err := strconv.Atoi(t); err != nil {
				notNumber("server.offset", t)
			}
		}
	} else {
		pp.OffsetOrigin = facts.Origin{File: p.toml, Key: "server.offset", Note: "not set: the product's default offset " + strconv.Itoa(pp.DefaultOffset)}
	}
	add := func(name, key string, base int) {
		port := base
		o := facts.Origin{Key: key, Note: "built-in port"}
		if key != "" {
			if v, ok := p.cfg.Lookup(key); ok {
				t := strings.TrimSpace(p.expand(v.Text()))
				if n, err := strconv.Atoi(t); err == nil {
					port, o = n, p.origin(v.Source)
				} else {
					notNumber(key, t)
				}
			}
		}
		pp.Listeners = append(pp.Listeners, facts.PortSetting{Name: name, Port: port + pp.Offset, DefaultPort: base + pp.DefaultOffset, Origin: o})
	}
	switch p.det.profile {
	case ProfileMI:
		add("http", "", 8280)
		add("https", "", 8243)
		add("internal-http", "", 9191)
		add("internal-https", "", 9154)
	default:
		add("https", "transport.https.properties.port", 9443)
		add("http", "transport.http.properties.port", 9763)
		if p.det.profile == ProfileAPIM {
			add("passthru-http", "", 8280)
			add("passthru-https", "", 8243)
		}
	}
	pp.Unresolved = strings.Join(unknown, "; ")
	return pp
}

// jmx reads the RMI server settings: the config, or the rendered jmx.xml.
func (p *product) jmx() facts.JMX {
	j := facts.JMX{}
	v, set := p.cfg.Lookup("monitoring.jmx.rmi_server_start")
	if b, ok := p.boolean("monitoring.jmx.rmi_server_start"); ok {
		j.Enabled = b
		j.Origin = p.origin(v.Source)
	} else if set {
		text := p.expand(v.Text())
		j.Origin = p.origin(v.Source)
		if u := p.unresolved(text); u != "" {
			j.Unresolved = "monitoring.jmx.rmi_server_start: " + u
		} else {
			j.Unresolved = "monitoring.jmx.rmi_server_start is " + strconv.Quote(text) + ", not true or false"
		}
	} else if doc := p.xml(p.det.layout.path("etc/jmx.xml")); doc != nil && doc.First("StartRMIServer") != nil {
		n := doc.First("StartRMIServer")
		j.Enabled = strings.EqualFold(n.Text, "true")
		j.Origin = facts.Origin{File: p.det.layout.path("etc/jmx.xml"), Line: n.Line, Note: "rendered file"}
	} else {
		j.Unresolved = "neither [monitoring.jmx] rmi_server_start nor a rendered " + p.det.layout.path("etc/jmx.xml") + " is in these files"
	}
	off := p.offset()
	j.RegistryPort = 9999 + off
	if n, ok := p.integer("monitoring.jmx.rmi_registry_port"); ok {
		j.RegistryPort = n + off
	}
	j.ServerPort = 11111 + off
	if n, ok := p.integer("monitoring.jmx.rmi_server_port"); ok {
		j.ServerPort = n + off
	}
	j.Hostname, _ = p.raw("monitoring.jmx.rmi_hostname")
	return j
}

func (p *product) proxy() facts.Proxy {
	return facts.Proxy{
		ProxyPort:   p.settingIf("transport.https.properties.proxyPort"),
		ProxyName:   p.settingIf("transport.https.properties.proxyName"),
		ContextPath: p.settingIf("server.proxy_context_path"),
	}
}

// settingIf is setting, but an empty value counts as unset.
func (p *product) settingIf(key string) facts.Setting {
	s := p.setting(key)
	if strings.TrimSpace(s.Value) == "" {
		s.Set = false
	}
	return s
}

func (p *product) clustering() facts.Clustering {
	c := facts.Clustering{Members: []string{}, Ports: []int{}}
	v, ok := p.cfg.Lookup("clustering.membership_scheme")
	if !ok || v.Source.Layer <= tomlcfg.Default {
		if b, ok := p.boolean("clustering.enable"); !ok || !b {
			return c
		}
	}
	c.Enabled = true
	c.Scheme = v.Text()
	c.Origin = p.origin(v.Source)
	if e, ok := p.cfg.Entry("clustering.members"); ok {
		if list, ok := e.Value.([]any); ok {
			for _, m := range list {
				c.Members = append(c.Members, tomlcfg.String(m))
			}
		}
	}
	if n, ok := p.integer("clustering.local_member_port"); ok {
		c.Ports = append(c.Ports, n)
	}
	return c
}

// outboundVerificationOff lists settings that turn off certificate or
// hostname verification of outbound TLS.
func (p *product) outboundVerificationOff(j facts.JVM) []facts.Setting {
	var out []facts.Setting
	if s, ok := j.Properties["org.opensaml.httpclient.https.disableHostnameVerification"]; ok && strings.EqualFold(s.Value, "true") {
		out = append(out, s)
	}
	if s, ok := j.Properties["httpclient.hostnameVerifier"]; ok && strings.EqualFold(s.Value, "AllowAll") {
		out = append(out, s)
	}
	for _, k := range p.cfg.Keys() {
		// Both patterns need one of these words; checking for them first
		// spares the regular expressions nearly every key.
		if !containsFold(k, "verif") && !containsFold(k, "trust") && !containsFold(k, "insecure") {
			continue
		}
		whenFalse, whenTrue := offWhenFalse.MatchString(k), offWhenTrue.MatchString(k)
		if !whenFalse && !whenTrue {
			continue
		}
		b, ok := p.boolean(k)
		if !ok {
			continue
		}
		if (whenFalse && !b) || (whenTrue && b) {
			out = append(out, p.setting(k))
		}
	}
	for _, v := range p.senderVerifiers() {
		if strings.EqualFold(v.Value, "AllowAll") {
			out = append(out, v)
		}
	}
	for _, d := range p.datasources() {
		for _, prm := range []string{"trustServerCertificate=true", "verifyServerCertificate=false"} {
			if strings.Contains(strings.ToLower(d.URL), strings.ToLower(prm)) {
				out = append(out, facts.Setting{Key: "datasource " + d.Name, Value: prm, Set: true, Origin: d.Origin})
			}
		}
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].Key < out[k].Key })
	return out
}

// senderVerifiers are the PassThrough senders' HostnameVerifier settings.
func (p *product) senderVerifiers() []facts.Setting {
	var out []facts.Setting
	for _, k := range []string{"transport.passthru_https.sender.parameters.HostnameVerifier", "transport.https.sender.parameter.'HostnameVerifier'", "transport.https.sender.parameter.HostnameVerifier"} {
		if p.cfg.Has(k) {
			out = append(out, p.setting(k))
		}
	}
	if len(out) == 0 && (p.det.profile == ProfileAPIM || p.det.profile == ProfileMI) {
		f := p.det.layout.path("axis2/axis2.xml")
		if doc := p.xml(f); doc != nil {
			for _, t := range doc.All("transportSender") {
				if t.Attrs["name"] != "https" {
					continue
				}
				found := false
				for _, prm := range t.All("parameter") {
					if prm.Attrs["name"] == "HostnameVerifier" {
						out = append(out, facts.Setting{Key: "axis2.xml transportSender https HostnameVerifier", Value: prm.Text, Set: true, Origin: facts.Origin{File: f, Line: prm.Line}})
						found = true
					}
				}
				if !found {
					out = append(out, facts.Setting{Key: "axis2.xml transportSender https HostnameVerifier", Value: "DefaultAndLocalhost", Set: false,
						Origin: facts.Origin{File: f, Line: t.Line, Note: "not set: the PassThrough sender's default (DefaultAndLocalhost) applies"}})
				}
			}
		}
	}
	return out
}

func (p *product) callbackRegexes() []facts.Setting {
	var out []facts.Setting
	for _, k := range []string{"identity_mgt.recovery.callback_url", "identity_mgt.user_self_registration.callback_url", "identity_mgt.lite_user_registration.callback_url"} {
		if p.cfg.Has(k) {
			out = append(out, p.setting(k))
		}
	}
	return out
}

// updateLevel reads the WSO2 Update Tool's record (updates/config.json),
// -1 when there is none.
func (p *product) updateLevel() (int, string) {
	var why []string
	for _, f := range []string{"updates/config.json", "updates/product.json"} {
		b, err := p.h.read(f)
		if err != nil {
			if p.h.exists(f) {
				why = append(why, f+": "+err.Error())
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			why = append(why, f+": not JSON: "+err.Error())
			continue
		}
		for _, k := range []string{"update-level", "update_level", "updateLevel"} {
			switch v := m[k].(type) {
			case float64:
				return int(v), ""
			case string:
				if n, err := strconv.Atoi(v); err == nil {
					return n, ""
				}
				why = append(why, f+": "+k+" is "+strconv.Quote(v)+", not a number")
			}
		}
		if len(why) == 0 || !strings.HasPrefix(why[len(why)-1], f) {
			why = append(why, f+" names no update level")
		}
	}
	if len(why) == 0 {
		return -1, "no updates/config.json or updates/product.json (the WSO2 Update Tool writes them)"
	}
	return -1, strings.Join(why, "; ")
}

var javaVersion = regexp.MustCompile(`(?m)^JAVA_VERSION="([^"]+)"`)

// java reads a bundled JDK's release file, if the pack ships one.
func (p *product) java() facts.JavaRuntime {
	for _, dir := range []string{"jdk", "jre", "java"} {
		f := dir + "/release"
		b, err := p.h.read(f)
		if err != nil {
			continue
		}
		m := javaVersion.FindSubmatch(b)
		if m == nil {
			continue
		}
		v := string(m[1])
		return facts.JavaRuntime{Version: v, Major: javaMajor(v), Origin: facts.Origin{File: f}}
	}
	return facts.JavaRuntime{}
}

func javaMajor(v string) int {
	v = strings.TrimPrefix(v, "1.")
	parts := strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if len(parts) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(parts[0])
	return n
}

// containsFold reports whether sub (ASCII) is in s, ignoring case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
