package wso2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/jvmflags"
	"github.com/rampart-sec/rampart/internal/collect/wso2/log4j"
	"github.com/rampart-sec/rampart/internal/collect/wso2/script"
	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/facts"
)

// jvm reads the start script's java command line: the script package
// expands the variables the launch line uses, jvmflags turns the options
// that always apply (not the --debug branch's) into facts.
func (p *product) jvm() (facts.JVM, error) {
	j := facts.JVM{Properties: map[string]facts.Setting{}, Options: []facts.Setting{}}
	var tried []string
	for _, f := range p.kb.StartScripts {
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

// logging reads log4j2.properties.
func (p *product) logging() (facts.Logging, error) {
	f := p.det.path(p.kb.Files.Log4j)
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
	offKey := p.kb.OffsetKey
	if v, ok := p.cfg.Lookup(offKey); ok {
		pp.OffsetOrigin = p.origin(v.Source)
		if t := strings.TrimSpace(p.expand(v.Text())); t != "" {
			if _, err := strconv.Atoi(t); err != nil {
				notNumber(offKey, t)
			}
		}
	} else {
		pp.OffsetOrigin = facts.Origin{File: p.toml, Key: offKey, Note: "not set: the product's default offset " + strconv.Itoa(pp.DefaultOffset)}
	}
	for _, port := range p.kb.Ports {
		val := port.Default
		o := facts.Origin{Key: port.Key, Note: "built-in port"}
		if port.Key != "" {
			if v, ok := p.cfg.Lookup(port.Key); ok {
				t := strings.TrimSpace(p.expand(v.Text()))
				if n, err := strconv.Atoi(t); err == nil {
					val, o = n, p.origin(v.Source)
				} else {
					notNumber(port.Key, t)
				}
			}
		}
		pp.Listeners = append(pp.Listeners, facts.PortSetting{Name: port.Name, Port: val + pp.Offset, DefaultPort: port.Default + pp.DefaultOffset, Origin: o})
	}
	pp.Unresolved = strings.Join(unknown, "; ")
	return pp
}

// jmx reads the RMI server settings: the config, or the rendered jmx.xml.
func (p *product) jmx() facts.JMX {
	k := p.kb.JMX
	j := facts.JMX{}
	v, set := p.cfg.Lookup(k.Start)
	rendered := p.det.path(k.Rendered.File)
	if b, ok := p.boolean(k.Start); ok {
		j.Enabled = b
		j.Origin = p.origin(v.Source)
	} else if set {
		text := p.expand(v.Text())
		j.Origin = p.origin(v.Source)
		if u := p.unresolved(text); u != "" {
			j.Unresolved = k.Start + ": " + u
		} else {
			j.Unresolved = k.Start + " is " + strconv.Quote(text) + ", not true or false"
		}
	} else if doc := p.xml(rendered); doc != nil && doc.First(k.Rendered.Element) != nil {
		n := doc.First(k.Rendered.Element)
		j.Enabled = strings.EqualFold(n.Text, "true")
		j.Origin = facts.Origin{File: rendered, Line: n.Line, Note: "rendered file"}
	} else {
		table, key := splitLast(k.Start)
		j.Unresolved = "neither [" + table + "] " + key + " nor a rendered " + rendered + " is in these files"
	}
	off := p.offset()
	j.RegistryPort = k.RegistryPort.Default + off
	if n, ok := p.integer(k.RegistryPort.Key); ok {
		j.RegistryPort = n + off
	}
	j.ServerPort = k.ServerPort.Default + off
	if n, ok := p.integer(k.ServerPort.Key); ok {
		j.ServerPort = n + off
	}
	j.Hostname, _ = p.raw(k.Hostname)
	return j
}

// splitLast splits a key at its last dot: its table and its name.
func splitLast(key string) (string, string) {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
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
	ov := p.kb.OutboundVerification
	for _, name := range sortedKeys(ov.JVMProperties) {
		if s, ok := j.Properties[name]; ok && strings.EqualFold(s.Value, ov.JVMProperties[name]) {
			out = append(out, s)
		}
	}
	offWhenFalse, offWhenTrue := p.kb.OffWhenFalse(), p.kb.OffWhenTrue()
	for _, k := range p.cfg.Keys() {
		// Both patterns need one of these words; checking for them first
		// spares the regular expressions nearly every key.
		if !slices.ContainsFunc(ov.KeyWords, func(w string) bool { return containsFold(k, w) }) {
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
		if strings.EqualFold(v.Value, ov.SenderOff) {
			out = append(out, v)
		}
	}
	for _, d := range p.datasources() {
		for _, prm := range ov.JDBCParameters {
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
	for _, k := range p.kb.OutboundVerification.SenderVerifiers {
		if p.cfg.Has(k) {
			out = append(out, p.setting(k))
		}
	}
	if pt := p.kb.Passthrough; len(out) == 0 && pt != nil {
		f := p.det.path(p.kb.Files.Axis2)
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
					out = append(out, facts.Setting{Key: "axis2.xml transportSender https HostnameVerifier", Value: pt.SenderDefault, Set: false,
						Origin: facts.Origin{File: f, Line: t.Line, Note: "not set: the PassThrough sender's default (" + pt.SenderDefault + ") applies"}})
				}
			}
		}
	}
	return out
}

func (p *product) callbackRegexes() []facts.Setting {
	var out []facts.Setting
	for _, k := range p.kb.CallbackURLs {
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
	up := p.kb.Updates
	for _, f := range up.Files {
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
		for _, k := range up.Keys {
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
		return -1, "no " + strings.Join(up.Files, " or ") + " (the WSO2 Update Tool writes them)"
	}
	return -1, strings.Join(why, "; ")
}

// java reads a bundled JDK's release file, if the pack ships one.
func (p *product) java() facts.JavaRuntime {
	for _, dir := range p.kb.JDKDirs {
		f := dir + "/release"
		b, err := p.h.read(f)
		if err != nil {
			continue
		}
		v, ok := releaseVersion(b)
		if !ok {
			continue
		}
		return facts.JavaRuntime{Version: v, Major: javaMajor(v), Origin: facts.Origin{File: f}}
	}
	return facts.JavaRuntime{}
}

// releaseVersion reads JAVA_VERSION="..." from a JDK's release file: the
// first line that starts with it and has a non-empty quoted value.
func releaseVersion(b []byte) (string, bool) {
	const key = `JAVA_VERSION="`
	for start := 0; start <= len(b); {
		if rest, ok := bytes.CutPrefix(b[start:], []byte(key)); ok {
			if i := bytes.IndexByte(rest, '"'); i > 0 {
				return string(rest[:i]), true
			}
		}
		i := bytes.IndexByte(b[start:], '\n')
		if i < 0 {
			break
		}
		start += i + 1
	}
	return "", false
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

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
