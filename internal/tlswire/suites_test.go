package tlswire

import "testing"

func TestRegistryClassification(t *testing.T) {
	r := NewRegistry()
	cases := []Suite{
		{ID: 0xC02F, Name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Kex: "ECDHE", Auth: "RSA", Cipher: "AES_128_GCM", Mode: "AEAD", MAC: "AEAD", Bits: 128, ForwardSecrecy: true},
		{ID: 0x000A, Name: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Kex: "RSA", Auth: "RSA", Cipher: "3DES_EDE_CBC", Mode: "CBC", MAC: "SHA", Bits: 112},
		{ID: 0x0003, Name: "TLS_RSA_EXPORT_WITH_RC4_40_MD5", Kex: "RSA", Auth: "RSA", Cipher: "RC4_40", Mode: "STREAM", MAC: "MD5", Bits: 40, Export: true},
		{ID: 0x0018, Name: "TLS_DH_anon_WITH_RC4_128_MD5", Kex: "DH", Auth: "anon", Cipher: "RC4_128", Mode: "STREAM", MAC: "MD5", Bits: 128},
		{ID: 0x0013, Name: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", Kex: "DHE", Auth: "DSS", Cipher: "3DES_EDE_CBC", Mode: "CBC", MAC: "SHA", Bits: 112, ForwardSecrecy: true},
		{ID: 0x0002, Name: "TLS_RSA_WITH_NULL_SHA", Kex: "RSA", Auth: "RSA", Cipher: "NULL", Mode: "NULL", MAC: "SHA"},
		{ID: 0x0007, Name: "TLS_RSA_WITH_IDEA_CBC_SHA", Kex: "RSA", Auth: "RSA", Cipher: "IDEA_CBC", Mode: "CBC", MAC: "SHA", Bits: 128},
		{ID: 0x0096, Name: "TLS_RSA_WITH_SEED_CBC_SHA", Kex: "RSA", Auth: "RSA", Cipher: "SEED_CBC", Mode: "CBC", MAC: "SHA", Bits: 128},
		{ID: 0xC0A2, Name: "TLS_DHE_RSA_WITH_AES_128_CCM_8", Kex: "DHE", Auth: "RSA", Cipher: "AES_128_CCM_8", Mode: "AEAD", MAC: "AEAD", Bits: 128, ForwardSecrecy: true},
		{ID: 0xCCA8, Name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Kex: "ECDHE", Auth: "RSA", Cipher: "CHACHA20_POLY1305", Mode: "AEAD", MAC: "AEAD", Bits: 256, ForwardSecrecy: true},
		{ID: 0xC077, Name: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", Kex: "ECDHE", Auth: "RSA", Cipher: "CAMELLIA_256_CBC", Mode: "CBC", MAC: "SHA384", Bits: 256, ForwardSecrecy: true},
		{ID: 0xC0AA, Name: "TLS_PSK_DHE_WITH_AES_128_CCM_8", Kex: "DHE", Auth: "PSK", Cipher: "AES_128_CCM_8", Mode: "AEAD", MAC: "AEAD", Bits: 128, ForwardSecrecy: true},
		{ID: 0x1301, Name: "TLS_AES_128_GCM_SHA256", TLS13: true, Kex: "ANY", Auth: "ANY", Cipher: "AES_128_GCM", Mode: "AEAD", MAC: "AEAD", Bits: 128, ForwardSecrecy: true},
		{ID: 0xC0B4, Name: "TLS_SHA256_SHA256", TLS13: true, Kex: "ANY", Auth: "ANY", Cipher: "NULL", Mode: "NULL", MAC: "SHA256", ForwardSecrecy: true},
		{ID: 0x0062, Name: "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", Historic: true, Kex: "RSA", Auth: "RSA", Cipher: "DES_CBC", Mode: "CBC", MAC: "SHA", Bits: 56, Export: true},
		{ID: 0xC102, Name: "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", Kex: "GOST", Auth: "GOST", Cipher: "28147_CNT_IMIT", Mode: "STREAM", MAC: "GOST", Bits: 256},
	}
	for _, want := range cases {
		got, ok := r.Lookup(uint16(want.ID))
		if !ok || got != want {
			t.Errorf("0x%04X:\n got %+v\nwant %+v", want.ID, got, want)
		}
	}
	if _, ok := r.Lookup(0xFFFF); ok {
		t.Error("0xFFFF found")
	}
	if s, _ := r.Lookup(0xFFFF); s.Name != "UNKNOWN_0xFFFF" {
		t.Errorf("unknown suite named %q", s.Name)
	}
	if s, ok := r.LookupSSLv2(0x0700C0); !ok || s.HexID() != "0x0700C0" || s.Cipher != "3DES_EDE_CBC" || !s.SSLv2 {
		t.Errorf("SSLv2 3DES kind: %+v", s)
	}
}

func TestRegistryComplete(t *testing.T) {
	r := NewRegistry()
	names := map[string]bool{}
	for _, s := range append(r.TLS(), r.TLS13()...) {
		if names[s.Name] {
			t.Errorf("name %s twice", s.Name)
		}
		names[s.Name] = true
		if s.Mode == "" || s.Kex == "" || s.Auth == "" || s.Cipher == "" || (s.MAC == "" && !s.TLS13) {
			t.Errorf("0x%04X %s: incomplete classification %+v", s.ID, s.Name, s)
		}
		if s.Mode != "NULL" && s.Bits == 0 {
			t.Errorf("0x%04X %s: no key size", s.ID, s.Name)
		}
		if s.HexID() != FormatSuiteID(s.ID, false) || len(s.HexID()) != 6 {
			t.Errorf("hex id %q", s.HexID())
		}
	}
	if len(r.TLS13()) != 15 {
		t.Errorf("%d TLS 1.3 suites, want 15 (5 RFC 8446, 2 SM, 2 AEGIS, 2 integrity-only, 4 GOST MGM)", len(r.TLS13()))
	}
	if n := len(r.TLS()); n < 340 {
		t.Errorf("only %d TLS suites", n)
	}
	if len(r.SSLv2()) != 8 {
		t.Errorf("%d SSLv2 kinds", len(r.SSLv2()))
	}
}
