package portscan

import (
	"testing"
	"unicode/utf8"
)

// checkIdentity holds for every classification: a known service, a banner
// of bounded printable ASCII, and a verdict that agrees with the service.
func checkIdentity(t *testing.T, id identity, v verdict) {
	t.Helper()
	switch v {
	case matched:
		switch id.service {
		case svcTLS, svcHTTP, svcSSH, svcJMX, svcLDAP, svcMySQL, svcPostgreSQL, svcHazelcast, svcAMQP:
		default:
			t.Fatalf("matched unknown service %q", id.service)
		}
	case needMore, noMatch:
		if id.service != "" {
			t.Fatalf("verdict %d with service %q", v, id.service)
		}
	default:
		t.Fatalf("verdict %d", v)
	}
	if len(id.banner) > 160 || !utf8.ValidString(id.banner) {
		t.Fatalf("banner %q", id.banner)
	}
	for _, r := range id.banner {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("banner %q has %U", id.banner, r)
		}
	}
}

// FuzzClassify feeds any server answer to every probe's classifier.
func FuzzClassify(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_9.2p1\r\n"))
	f.Add(mysqlGreeting("8.0.36"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"))
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	f.Add(append(append([]byte{0x4e, 0x00, 0x09}, "127.0.0.1"...), 0, 0, 0xc3, 0x50))
	f.Add([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	f.Add([]byte("E\x00\x00\x00\x50SFATAL\x00"))
	f.Add([]byte("HZC"))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10, 0xce})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range append([]string{probeNone}, defaultOrder...) {
			id, v := classify(p, b)
			checkIdentity(t, id, v)
		}
	})
}

// FuzzMySQLGreeting targets the binary handshake parser.
func FuzzMySQLGreeting(f *testing.F) {
	f.Add(mysqlGreeting("8.0.36"))
	f.Add(mysqlGreeting("5.5.5-10.11.6-MariaDB"))
	f.Add([]byte{0x17, 0, 0, 0, 0xff, 0x6a, 0x04, 'H', 'o', 's', 't'})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, v := parseMySQL(b)
		checkIdentity(t, id, v)
	})
}

// FuzzLDAPResponse targets the BER reader.
func FuzzLDAPResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	f.Add([]byte{0x30, 0x84, 0x00, 0x00, 0x00, 0x0c, 0x02, 0x01, 0x01, 0x64, 0x07})
	f.Add(ldapRootDSESearch())
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		id, v := parseLDAPResponse(b, ldapMessageID)
		checkIdentity(t, id, v)
	})
}

// FuzzJRMIAck targets the JRMP acknowledgement parser.
func FuzzJRMIAck(f *testing.F) {
	f.Add(append(append([]byte{0x4e, 0x00, 0x09}, "127.0.0.1"...), 0, 0, 0xc3, 0x50))
	f.Add([]byte{0x4f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		id, v := parseJRMIAck(b)
		checkIdentity(t, id, v)
	})
}
