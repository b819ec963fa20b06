package wso2fix

import (
	"fmt"
	"regexp"
	"strings"
)

// jmx turns the RMI server off (NET-003).
func (p *planner) jmx() {
	const rule = "NET-003"
	if !p.fails(rule) || !p.prod.JMX.Enabled {
		return
	}
	p.setKey("monitoring.jmx.rmi_server_start", false, rule)
	p.fixed(rule, "[monitoring.jmx] rmi_server_start = false",
		"if monitoring needs JMX, bind it to an internal address and firewall it to the monitoring network instead")
}

// hostname sets the public host name (NET-007).
func (p *planner) hostname() {
	const rule = "NET-007"
	if !p.fails(rule) {
		return
	}
	h := p.givenHost()
	if h == "" || placeholderHost(h) {
		p.needs(rule, "the public host name is the operator's to give", p.hostInput())
		return
	}
	p.setKey("server.hostname", h, rule)
	p.fixed(rule, "[server] hostname = "+h, "make "+h+" resolve to this node (or its load balancer) and use it in the TLS certificate")
}

// portOffset moves the product off its default ports (NET-002).
func (p *planner) portOffset() {
	const rule = "NET-002"
	if !p.fails(rule) {
		return
	}
	if p.opt.PortOffset == nil {
		p.needs(rule, fmt.Sprintf("the new port offset is the operator's to choose (the load balancer must follow; now %d)", p.prod.Ports.Offset), "--port-offset N")
		return
	}
	n := *p.opt.PortOffset
	if n == p.prod.Ports.DefaultOffset {
		p.needs(rule, fmt.Sprintf("--port-offset %d is the product's default offset", n), "--port-offset N (not "+fmt.Sprint(n)+")")
		return
	}
	p.setKey("server.offset", int64(n), rule)
	p.fixed(rule, fmt.Sprintf("[server] offset = %d (every port moves by %d from the defaults)", n, n),
		"point the load balancer, firewall and clients at the new ports")
}

// callbacks anchors the password-recovery and self-registration callback
// patterns to the product's own host (IAM-004).
func (p *planner) callbacks() {
	const rule = "IAM-004"
	if !p.fails(rule) {
		return
	}
	host := p.publicHost()
	if host == "" {
		p.needs(rule, "the callback pattern is anchored to the public host name", p.hostInput())
		return
	}
	pattern := "^https://" + regexp.QuoteMeta(host) + "(:[0-9]+)?/.*$"
	probe := "https://attacker.invalid/steal"
	var done []string
	for _, c := range p.prod.CallbackRegexes {
		re, err := regexp.Compile("^(?:" + c.Value + ")$")
		if err == nil && !re.MatchString(probe) {
			continue
		}
		p.setKey(c.Key, pattern, rule)
		done = append(done, c.Key)
	}
	if len(done) > 0 {
		p.fixed(rule, strings.Join(done, ", ")+" = "+pattern,
			"applications that register callbacks on other hosts need their own anchored patterns added")
	}
}

// sessionCleanup makes the expired-session cleanup work in chunks (IAM-006).
func (p *planner) sessionCleanup() {
	const rule = "IAM-006"
	if !p.fails(rule) {
		return
	}
	p.setKey("session_data.cleanup.clean_expired_session_data_in_chunks_of", "8192", rule)
	p.fixed(rule, "[session_data.cleanup] clean_expired_session_data_in_chunks_of = \"8192\"", "tune the chunk size to the database")
}

// logPatterns puts a UUID in every log layout (LOG-002).
func (p *planner) logPatterns() {
	uuidInPattern := regexp.MustCompile(`%u(uid)?([^a-zA-Z]|$)|%enc\{%(m|msg|message)\}\{CRLF\}`)
	const rule = "LOG-002"
	if !p.fails(rule) {
		return
	}
	f, props, err := p.logProps()
	if err != nil {
		p.failed(rule, err)
		return
	}
	var done []string
	for _, k := range props.Keys() {
		if !strings.HasPrefix(k, "appender.") || !strings.HasSuffix(k, ".layout.pattern") {
			continue
		}
		v, _, _ := props.Get(k)
		if v == "" || uuidInPattern.MatchString(v) {
			continue
		}
		props.Set(k, "[%u] "+v, rule)
		done = append(done, strings.TrimSuffix(strings.TrimPrefix(k, "appender."), ".layout.pattern"))
	}
	if len(done) > 0 {
		p.fixed(rule, "a UUID ([%u]) leads each line of "+strings.Join(done, ", ")+" in "+f,
			"log parsers and SIEM rules that read these lines must allow the new leading field")
	}
}
