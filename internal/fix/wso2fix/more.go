package wso2fix

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/propedit"
)

// logProps opens the product's log4j2.properties (where its logging
// configuration says, else conf/log4j2.properties) for editing.
func (p *planner) logProps() (string, *propedit.Doc, error) {
	f := p.prod.Logging.File
	if f == "" {
		f = path.Join(p.conf, "log4j2.properties")
	}
	props, err := p.ws.Props(f)
	return f, props, err
}

// logRotation gives every file appender a rolling policy and a bound on
// its backups (LOG-001), the settings the rule's remediation names.
func (p *planner) logRotation() {
	const rule = "LOG-001"
	if !p.fails(rule) {
		return
	}
	_, props, err := p.logProps()
	if err != nil {
		p.failed(rule, err)
		return
	}
	// An appender's properties are keyed by its id, which is not always
	// its name: find the id whose .name is the appender's.
	ids := map[string]string{}
	for _, k := range props.Keys() {
		if strings.HasPrefix(k, "appender.") && strings.HasSuffix(k, ".name") && strings.Count(k, ".") == 2 {
			v, _, _ := props.Get(k)
			ids[v] = strings.TrimSuffix(strings.TrimPrefix(k, "appender."), ".name")
		}
	}
	var done []string
	for _, a := range p.prod.Logging.Appenders {
		fileType := map[string]bool{"RollingFile": true, "File": true, "RandomAccessFile": true, "RollingRandomAccessFile": true}[a.Type]
		if !fileType || ((a.Type == "RollingFile" || a.Type == "RollingRandomAccessFile") && len(a.Policies) > 0 && a.MaxBackups > 0) {
			continue
		}
		id := ids[a.Name]
		if id == "" {
			p.manual(rule, "appender "+a.Name+": its properties could not be found")
			continue
		}
		pre := "appender." + id + "."
		switch a.Type {
		case "File":
			props.Set(pre+"type", "RollingFile", rule)
		case "RandomAccessFile":
			props.Set(pre+"type", "RollingRandomAccessFile", rule)
		}
		if a.FilePattern == "" {
			base := strings.TrimSuffix(a.FileName, ".log")
			props.Set(pre+"filePattern", base+"-%d{yyyy-MM-dd}-%i.log", rule)
		}
		if len(a.Policies) == 0 {
			props.Set(pre+"policies.type", "Policies", rule)
			props.Set(pre+"policies.time.type", "TimeBasedTriggeringPolicy", rule)
			props.Set(pre+"policies.size.type", "SizeBasedTriggeringPolicy", rule)
			props.Set(pre+"policies.size.size", "10MB", rule)
		}
		if a.MaxBackups <= 0 {
			props.Set(pre+"strategy.type", "DefaultRolloverStrategy", rule)
			props.Set(pre+"strategy.max", "20", rule)
		}
		done = append(done, a.Name)
	}
	if len(done) > 0 {
		p.fixed(rule, "rolled daily and at 10MB, 20 backups kept: "+strings.Join(done, ", "), "ship the logs to a central store before they roll away")
	}
}

// outboundVerification turns off the settings that skip certificate or
// host name verification of outbound TLS (TLS-015).
func (p *planner) outboundVerification() {
	const rule = "TLS-015"
	if !p.fails(rule) {
		return
	}
	offWhenFalse := regexp.MustCompile(`(?i)(hostname_verification_enabled|host_name_verification|enable\.hostname\.verification|verify_hostname|hostname_verification)'?$`)
	var done []string
	for _, s := range p.prod.OutboundVerificationOff {
		switch {
		case strings.HasPrefix(s.Key, "datasource "):
			p.manual(rule, s.Key+": remove "+s.Value+" from its JDBC URL and trust the database's CA instead")
		case s.Origin.File != "" && strings.HasPrefix(s.Origin.File, "bin/"):
			continue // a JVM flag: jvmFlags sets it in the start script
		case strings.EqualFold(s.Value, "AllowAll"):
			p.setKey(s.Key, "Strict", rule)
			done = append(done, s.Key+" = Strict")
		case offWhenFalse.MatchString(s.Key):
			p.setKey(s.Key, true, rule)
			done = append(done, s.Key+" = true")
		default:
			p.setKey(s.Key, false, rule)
			done = append(done, s.Key+" = false")
		}
	}
	j := p.prod.JVM
	if strings.EqualFold(j.DisableHostnameVerification, "true") || strings.EqualFold(j.HostnameVerifier, "AllowAll") {
		if j.Source == "" {
			p.manual(rule, "the JVM flags that turn verification off are set where no start script is in reach")
		} else if sh, err := p.ws.Shell(j.Source); err == nil {
			if s, ok := j.Properties["org.opensaml.httpclient.https.disableHostnameVerification"]; ok && strings.EqualFold(s.Value, "true") {
				sh.Set("org.opensaml.httpclient.https.disableHostnameVerification", "false", s.Origin.Line, rule)
				done = append(done, "-Dorg.opensaml.httpclient.https.disableHostnameVerification=false")
			}
			if s, ok := j.Properties["httpclient.hostnameVerifier"]; ok && strings.EqualFold(s.Value, "AllowAll") {
				sh.Set("httpclient.hostnameVerifier", "Strict", s.Origin.Line, rule)
				done = append(done, "-Dhttpclient.hostnameVerifier=Strict")
			}
		}
	}
	if len(done) > 0 {
		p.fixed(rule, strings.Join(done, ", "), "import the CAs of the back ends the product calls into its truststore, or those calls fail")
	}
}

// sessionIDLength raises a short Tomcat session ID length (IAM-005).
func (p *planner) sessionIDLength() {
	sessionIDAttr := regexp.MustCompile(`sessionIdLength\s*=\s*"([0-9]*)"`)
	const rule = "IAM-005"
	if !p.fails(rule) || p.prod.SessionIDLength == 0 || p.prod.SessionIDLength >= 16 {
		return
	}
	o := p.prod.SessionIDOrigin
	doc, err := p.ws.Text(o.File)
	if err != nil || o.Line == 0 {
		p.manual(rule, fmt.Sprintf("set sessionIdLength=\"32\" in %s", o.File))
		return
	}
	start, end := lineBounds(doc.Src, o.Line)
	m := sessionIDAttr.FindSubmatchIndex(doc.Src[start:end])
	if m == nil {
		p.manual(rule, fmt.Sprintf("set sessionIdLength=\"32\" in %s", o.File))
		return
	}
	doc.Replace(start+m[2], start+m[3], "32", rule, "sessionIdLength")
	p.fixed(rule, o.File+": sessionIdLength=\"32\"")
}

func lineBounds(b []byte, line int) (int, int) {
	off := 0
	for i := 1; i < line && off < len(b); i++ {
		j := strings.IndexByte(string(b[off:]), '\n')
		if j < 0 {
			return len(b), len(b)
		}
		off += j + 1
	}
	end := off
	for end < len(b) && b[end] != '\n' {
		end++
	}
	return off, end
}

// weakKeys: KEY-002 and KEY-003 are fixed by the new keystore when every
// store with a private key was a default one it replaces.
func (p *planner) weakKeys() {
	for _, rule := range []string{"KEY-002", "KEY-003"} {
		if !p.fails(rule) {
			continue
		}
		if p.vault != nil && p.replacedAll {
			p.fixed(rule, "the replaced keystores' keys are the new RSA 3072 (or EC P-256) key pair, signed with SHA-256")
			continue
		}
		p.add(rule, part{status: fix.Manual, text: "re-issue the weak key pairs of your own keystores (keytool -genkeypair -keyalg RSA -keysize 3072 -sigalg SHA256withRSA) and have them signed"})
	}
}
