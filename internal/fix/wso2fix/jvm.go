package wso2fix

import (
	"fmt"

	"github.com/rampart-sec/rampart/internal/facts"
)

// jvmFlag is a system property a rule wants on the java command line.
type jvmFlag struct {
	rule, name, value string
	ok                func(j facts.JVM) bool
}

var wantedFlags = []jvmFlag{
	{"TLS-008", "jdk.tls.ephemeralDHKeySize", "2048", func(j facts.JVM) bool { return j.DHKeySize >= 2048 }},
	{"TLS-009", "jdk.tls.rejectClientInitiatedRenegotiation", "true", func(j facts.JVM) bool { return j.RejectClientRenegotiation == "true" }},
	{"TLS-013", "httpclient.hostnameVerifier", "Strict", func(j facts.JVM) bool { return j.HostnameVerifier == "Strict" }},
	{"TLS-013", "org.opensaml.httpclient.https.disableHostnameVerification", "false", func(j facts.JVM) bool { return j.DisableHostnameVerification != "true" }},
}

// jvmFlags sets the JVM system properties TLS-008, TLS-009 and TLS-013
// want in the product's start script, where the java command is.
func (p *planner) jvmFlags() {
	j := p.prod.JVM
	script := j.Source
	for _, f := range wantedFlags {
		if !p.fails(f.rule) {
			continue
		}
		if script == "" {
			why := "no start script was read"
			if st, ok := p.in.Facts.Lookup("product.jvm"); ok && st.Reason != "" {
				why = st.Reason
			}
			p.manual(f.rule, fmt.Sprintf("-D%s=%s belongs on the java command line, but %s: add it to JAVA_OPTS where the product is started", f.name, f.value, why))
			continue
		}
		if f.ok(j) {
			continue
		}
		sh, err := p.ws.Shell(script)
		if err != nil {
			p.failed(f.rule, err)
			continue
		}
		line := 0
		if s, ok := j.Properties[f.name]; ok {
			line = s.Origin.Line
		}
		sh.Set(f.name, f.value, line, f.rule)
		p.fixed(f.rule, fmt.Sprintf("-D%s=%s in %s", f.name, f.value, script))
	}
	if p.fails("RT-003") && script != "" {
		p.manual("RT-003", "size -Xms/-Xmx in JVM_MEM_OPTS of "+script+" to about half of the machine's memory: the right heap depends on the load")
	}
}
