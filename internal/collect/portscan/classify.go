package portscan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Services named in facts.OpenPort.Service.
const (
	svcTLS        = "tls"
	svcHTTP       = "http"
	svcHTTPS      = "https"
	svcSSH        = "ssh"
	svcJMX        = "jmx"
	svcLDAP       = "ldap"
	svcLDAPS      = "ldaps"
	svcMySQL      = "mysql"
	svcPostgreSQL = "postgresql"
	svcHazelcast  = "hazelcast"
	svcAMQP       = "amqp"
	svcUnknown    = "unknown"
)

// Probes: what the client sends first. probeNone waits for the server.
const (
	probeNone      = ""
	probeTLS       = "tls"
	probeHTTP      = "http"
	probeJRMI      = "jrmi"
	probeLDAP      = "ldap"
	probePostgres  = "postgres"
	probeHazelcast = "hazelcast"
	probeAMQP      = "amqp"
)

// identity is a service identified on a port.
type identity struct {
	service string
	banner  string
}

// verdict is what classify makes of a server's bytes.
type verdict int

const (
	// needMore: the bytes so far are a prefix of something we know; read on.
	needMore verdict = iota
	// matched: the service is identified.
	matched
	// noMatch: nothing we know starts like this.
	noMatch
)

// classify identifies a service from the bytes a server sent in answer to
// probe (probeNone: it spoke first). Server-first protocols (SSH, MySQL)
// are recognised whatever was sent; the others only as the answer to their
// own probe, so a stray byte is never taken for a PostgreSQL reply. It
// never panics on any input; tests fuzz it.
func classify(probe string, b []byte) (identity, verdict) {
	if len(b) == 0 {
		return identity{}, needMore
	}
	best := noMatch
	try := func(id identity, v verdict) (identity, bool) {
		if v == matched {
			return id, true
		}
		if v == needMore {
			best = needMore
		}
		return identity{}, false
	}
	if id, ok := try(parseSSH(b)); ok {
		return id, matched
	}
	if id, ok := try(parseMySQL(b)); ok {
		return id, matched
	}
	if id, ok := try(parseHTTP(b)); ok {
		return id, matched
	}
	switch probe {
	case probeTLS:
		if id, ok := try(parseTLSRecord(b)); ok {
			return id, matched
		}
	case probeJRMI:
		if id, ok := try(parseJRMIAck(b)); ok {
			return id, matched
		}
	case probeLDAP:
		if id, ok := try(parseLDAPResponse(b, ldapMessageID)); ok {
			return id, matched
		}
	case probePostgres:
		if id, ok := try(parsePostgresSSLReply(b)); ok {
			return id, matched
		}
	case probeHazelcast:
		if id, ok := try(parseHazelcastReply(b)); ok {
			return id, matched
		}
	case probeAMQP:
		if id, ok := try(parseAMQPReply(b)); ok {
			return id, matched
		}
	}
	return identity{}, best
}

// maxBanner bounds the bytes read from one answer.
const maxBanner = 8 << 10

// cleanBanner keeps printable ASCII of s, single-spaced, at most 160 bytes.
func cleanBanner(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			r = ' '
		}
		if r == ' ' {
			if space || b.Len() == 0 {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
		if b.Len() >= 160 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// hasPrefixOf reports whether b is a prefix of p or p a prefix of b.
func hasPrefixOf(b []byte, p string) (full, partial bool) {
	if len(b) >= len(p) {
		return string(b[:len(p)]) == p, false
	}
	return false, string(b) == p[:len(b)]
}

// parseSSH recognises an SSH identification string (RFC 4253 4.2); the
// server may send other lines before it.
func parseSSH(b []byte) (identity, verdict) {
	rest := b
	for len(rest) > 0 {
		full, partial := hasPrefixOf(rest, "SSH-")
		if full {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line = rest[:i]
			} else if len(rest) < 255 {
				return identity{}, needMore
			}
			return identity{service: svcSSH, banner: cleanBanner(string(line))}, matched
		}
		if partial {
			return identity{}, needMore
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 || bytes.HasPrefix(b, []byte("HTTP/")) {
			return identity{}, noMatch
		}
		rest = rest[i+1:]
	}
	return identity{}, noMatch
}

// parseMySQL recognises the MySQL/MariaDB initial handshake packet
// (protocol 10: version string, connection id, auth data) or the error
// packet a server sends instead when it refuses the client's host.
func parseMySQL(b []byte) (identity, verdict) {
	if len(b) < 4 {
		if len(b) == 3 && b[2] != 0 {
			return identity{}, noMatch // lengths are small: high byte 0
		}
		return identity{}, needMore
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if b[3] != 0 || n < 5 || n > 1024 {
		return identity{}, noMatch
	}
	if len(b) < 4+n {
		if len(b) > 4 && b[4] != 0x0a && b[4] != 0xff {
			return identity{}, noMatch
		}
		return identity{}, needMore
	}
	p := b[4 : 4+n]
	switch p[0] {
	case 0x0a:
		end := bytes.IndexByte(p[1:], 0)
		if end < 1 || end > 80 {
			return identity{}, noMatch
		}
		ver := p[1 : 1+end]
		for _, c := range ver {
			if c < 0x20 || c > 0x7e {
				return identity{}, noMatch
			}
		}
		if !bytes.ContainsAny(ver, "0123456789") {
			return identity{}, noMatch
		}
		// connection id (4), auth-plugin-data part 1 (8), filler (1),
		// capability flags (2) must follow.
		if len(p) < 1+end+1+4+8+1+2 {
			return identity{}, noMatch
		}
		name := "MySQL"
		if bytes.Contains(bytes.ToLower(ver), []byte("mariadb")) {
			name = "MariaDB"
		}
		return identity{service: svcMySQL, banner: cleanBanner(name + " " + string(ver))}, matched
	case 0xff:
		if len(p) < 4 {
			return identity{}, noMatch
		}
		code := binary.LittleEndian.Uint16(p[1:3])
		msg := p[3:]
		if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 {
			msg = msg[6:]
		}
		if code < 1000 || code > 4000 || len(msg) == 0 {
			return identity{}, noMatch
		}
		for _, c := range msg {
			if c < 0x20 || c > 0x7e {
				return identity{}, noMatch
			}
		}
		return identity{service: svcMySQL, banner: cleanBanner(fmt.Sprintf("error %d: %s", code, msg))}, matched
	}
	return identity{}, noMatch
}

// parseHTTP recognises an HTTP/1.x response and takes the Server header
// (or the status line) as the banner.
func parseHTTP(b []byte) (identity, verdict) {
	full, partial := hasPrefixOf(b, "HTTP/")
	if partial {
		return identity{}, needMore
	}
	if !full {
		return identity{}, noMatch
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(b, []byte("\n\n"))
	}
	if end < 0 && len(b) < maxBanner {
		return identity{}, needMore
	}
	head := b
	if end >= 0 {
		head = b[:end]
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || len(status[1]) != 3 || status[1][0] < '1' || status[1][0] > '5' {
		return identity{}, noMatch
	}
	banner := lines[0]
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "server") {
			banner = strings.TrimSpace(v)
			break
		}
	}
	return identity{service: svcHTTP, banner: cleanBanner(banner)}, matched
}

// plainToTLSPort reports whether an HTTP answer says the port speaks TLS
// (nginx's 400 "The plain HTTP request was sent to HTTPS port", Go's
// "Client sent an HTTP request to an HTTPS server").
func plainToTLSPort(b []byte) bool {
	l := bytes.ToLower(b)
	return bytes.Contains(l, []byte("sent to https port")) || bytes.Contains(l, []byte("http request to an https server"))
}

// parseTLSRecord recognises a TLS or SSL 3 record header (a ServerHello or
// an alert in answer to a ClientHello) or an SSL 2 ServerHello.
func parseTLSRecord(b []byte) (identity, verdict) {
	if len(b) < 3 {
		if (b[0] == 0x16 || b[0] == 0x15) && (len(b) < 2 || b[1] == 3) {
			return identity{}, needMore
		}
		if b[0]&0x80 != 0 {
			return identity{}, needMore
		}
		return identity{}, noMatch
	}
	if (b[0] == 0x16 || b[0] == 0x15) && b[1] == 3 && b[2] <= 4 {
		if b[0] == 0x15 {
			return identity{service: svcTLS, banner: "TLS alert"}, matched
		}
		return identity{service: svcTLS}, matched
	}
	// SSL 2: 2-byte header with the high bit set, then SERVER-HELLO (4).
	if b[0]&0x80 != 0 && b[2] == 4 {
		return identity{service: svcTLS, banner: "SSLv2"}, matched
	}
	return identity{}, noMatch
}

// jrmiRequest is a Java RMI (JRMP) stream-protocol header: magic "JRMI",
// version 2, StreamProtocol.
var jrmiRequest = []byte{'J', 'R', 'M', 'I', 0x00, 0x02, 0x4b}

// parseJRMIAck recognises the JRMP ProtocolAck (0x4e, then the client's
// host as the server saw it, as a Java modified-UTF-8 string, and a port)
// or ProtocolNotSupported (0x4f).
func parseJRMIAck(b []byte) (identity, verdict) {
	switch b[0] {
	case 0x4f:
		if len(b) == 1 {
			return identity{service: svcJMX, banner: "Java RMI (protocol not supported)"}, matched
		}
		return identity{}, noMatch
	case 0x4e:
	default:
		return identity{}, noMatch
	}
	if len(b) < 3 {
		return identity{}, needMore
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	if n == 0 || n > 255 {
		return identity{}, noMatch
	}
	if len(b) < 3+n+4 {
		return identity{}, needMore
	}
	host := b[3 : 3+n]
	for _, c := range host {
		if c < 0x20 || c > 0x7e {
			return identity{}, noMatch
		}
	}
	if len(b) > 3+n+4 {
		return identity{}, noMatch
	}
	return identity{service: svcJMX, banner: "Java RMI"}, matched
}

// ldapMessageID is the message ID of rampart's LDAP probe.
const ldapMessageID = 1

// ldapRootDSESearch returns an LDAPv3 SearchRequest (RFC 4511 4.5.1) for
// the root DSE's supportedLDAPVersion: base "", scope baseObject, filter
// (objectClass=*), anonymous and read-only.
func ldapRootDSESearch() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(ldapMessageID)
		b.AddASN1(cbasn1.Tag(3|0x40).Constructed(), func(b *cryptobyte.Builder) { // [APPLICATION 3] SearchRequest
			b.AddASN1OctetString(nil)                                                // baseObject ""
			b.AddASN1Enum(0)                                                         // scope baseObject
			b.AddASN1Enum(0)                                                         // derefAliases never
			b.AddASN1Int64(1)                                                        // sizeLimit
			b.AddASN1Int64(5)                                                        // timeLimit (s)
			b.AddASN1Boolean(false)                                                  // typesOnly
			b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { // present
				b.AddBytes([]byte("objectClass"))
			})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString([]byte("supportedLDAPVersion"))
			})
		})
	})
	return b.BytesOrPanic()
}

// parseLDAPResponse recognises an LDAPMessage (RFC 4511 4.1.1) answering
// message id (a search entry, a search result or another response) or an
// unsolicited notification (message id 0, e.g. notice of disconnection).
func parseLDAPResponse(b []byte, id int64) (identity, verdict) {
	if b[0] != 0x30 {
		return identity{}, noMatch
	}
	s := cryptobyte.String(b)
	var msg cryptobyte.String
	if !s.ReadASN1(&msg, cbasn1.SEQUENCE) {
		if len(b) < 16 {
			return identity{}, needMore
		}
		// A long answer not yet complete: judge the start.
		msg = cryptobyte.String(b[2:])
		if b[1]&0x80 != 0 {
			k := int(b[1] & 0x7f)
			if k < 1 || k > 4 || len(b) < 2+k {
				return identity{}, noMatch
			}
			msg = cryptobyte.String(b[2+k:])
		}
	}
	var got int64
	if !msg.ReadASN1Integer(&got) || (got != id && got != 0) {
		return identity{}, noMatch
	}
	var op cryptobyte.String
	var tag cbasn1.Tag
	if !msg.ReadAnyASN1Element(&op, &tag) {
		if len(msg) > 0 && msg[0]&0xc0 == 0x40 {
			return identity{}, needMore
		}
		return identity{}, noMatch
	}
	// protocolOp is [APPLICATION n]: class bits 01.
	if tag&0xc0 != 0x40 {
		return identity{}, noMatch
	}
	return identity{service: svcLDAP}, matched
}

// postgresSSLRequest asks a PostgreSQL server whether it speaks TLS
// (length 8, request code 80877103).
var postgresSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// parsePostgresSSLReply recognises the one-byte answer to an SSLRequest
// ('S': TLS follows, 'N': no TLS) or the ErrorResponse of a server too old
// to know the request.
func parsePostgresSSLReply(b []byte) (identity, verdict) {
	switch {
	case len(b) == 1 && b[0] == 'S':
		return identity{service: svcPostgreSQL, banner: "SSL supported"}, matched
	case len(b) == 1 && b[0] == 'N':
		return identity{service: svcPostgreSQL, banner: "SSL not supported"}, matched
	case b[0] == 'E':
		if len(b) < 5 {
			return identity{}, needMore
		}
		n := binary.BigEndian.Uint32(b[1:5])
		if n < 4 || n > 4096 {
			return identity{}, noMatch
		}
		if len(b) >= 6 && b[5] != 'S' && b[5] != 'V' && b[5] != 'C' && b[5] != 'M' {
			return identity{}, noMatch
		}
		return identity{service: svcPostgreSQL, banner: "error response"}, matched
	}
	return identity{}, noMatch
}

// hazelcastMemberHeader is the 3-byte protocol header a Hazelcast member
// sends when it opens a member-to-member connection.
var hazelcastMemberHeader = []byte("HZC")

// parseHazelcastReply recognises a Hazelcast member's answer to "HZC":
// "HZC" (the member protocol accepted, Hazelcast 4 and later) or "HZX"
// (an advanced-networking port refusing that protocol, Hazelcast 5).
func parseHazelcastReply(b []byte) (identity, verdict) {
	for _, p := range []string{"HZC", "HZX"} {
		full, partial := hasPrefixOf(b, p)
		if full {
			return identity{service: svcHazelcast, banner: "Hazelcast member protocol"}, matched
		}
		if partial {
			return identity{}, needMore
		}
	}
	return identity{}, noMatch
}

// amqpHeader is the AMQP 0-9-1 protocol header.
var amqpHeader = []byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1}

// parseAMQPReply recognises a broker's answer to the AMQP header: a
// Connection.Start method frame (type 1, channel 0, class 10, method 10)
// or its own protocol header when it wants another version.
func parseAMQPReply(b []byte) (identity, verdict) {
	full, partial := hasPrefixOf(b, "AMQP")
	switch {
	case partial:
		return identity{}, needMore
	case full:
		if len(b) < 8 {
			return identity{}, needMore
		}
		return identity{service: svcAMQP, banner: fmt.Sprintf("AMQP %d-%d-%d", b[5], b[6], b[7])}, matched
	}
	if b[0] != 1 {
		return identity{}, noMatch
	}
	if len(b) < 11 {
		return identity{}, needMore
	}
	if b[1] != 0 || b[2] != 0 || binary.BigEndian.Uint16(b[7:9]) != 10 || binary.BigEndian.Uint16(b[9:11]) != 10 {
		return identity{}, noMatch
	}
	return identity{service: svcAMQP, banner: "AMQP 0-9-1"}, matched
}
