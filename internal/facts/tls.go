package facts

// TLS is what a live TLS endpoint offers, learned with hand-built
// ClientHellos.
type TLS struct {
	Address string `json:"address"` // host:port dialled
	SNI     string `json:"sni,omitempty"`
	// Versions offered, named exactly SSLv2, SSLv3, TLSv1.0, TLSv1.1,
	// TLSv1.2, TLSv1.3, in that order.
	Versions []string `json:"versions"`
	// VersionsUnknown are the versions whose hellos got no answer within
	// the handshake timeout while others did: whether they are offered,
	// and with which suites, is not known (Notes say why).
	VersionsUnknown []string `json:"versions_unknown"`
	// Suites accepted, per version, in the server's preference order when it
	// has one.
	Suites []CipherSuite `json:"suites"`
	// ServerPreference is true when the server picks by its own order, false
	// when it honours the client's.
	ServerPreference bool `json:"server_preference"`
	// DHBits is the smallest finite-field DHE group the server used (0 when
	// no DHE suite is accepted).
	DHBits int `json:"dh_bits"`
	// Groups are the named groups (ECDHE curves, X25519, FFDHE) accepted.
	Groups []string `json:"groups"`
	// SecureRenegotiation: the server answers with the RFC 5746
	// renegotiation_info extension.
	SecureRenegotiation bool `json:"secure_renegotiation"`
	// ClientRenegotiation is "rejected", "accepted" or "unknown" (with
	// ClientRenegotiationNote saying why it could not be told).
	ClientRenegotiation     string `json:"client_renegotiation"`
	ClientRenegotiationNote string `json:"client_renegotiation_note,omitempty"`
	// Compression is true when the server accepted a TLS compression
	// method; CompressionError says why that could not be tested, and
	// CompressionCause classifies it (see Status.Cause).
	Compression      bool   `json:"compression"`
	CompressionError string `json:"compression_error,omitempty"`
	CompressionCause string `json:"compression_cause,omitempty"`
	FallbackSCSV     bool   `json:"fallback_scsv"`
	// Chain is the served certificate chain, leaf first: the first of
	// Chains, the one the newest protocol version's handshakes showed.
	Chain []Certificate `json:"chain"`
	// Trusted: Chain verifies against the system roots or the CA bundle
	// the user gave; TrustError says why not.
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
	// NameChecked is the host name the leaves were matched against, and
	// NameMatches whether Chain's leaf matched.
	NameChecked string `json:"name_checked,omitempty"`
	NameMatches bool   `json:"name_matches"`
	// Chains are every certificate chain the server presented, Chain
	// first: a server with an RSA and an ECDSA certificate presents each
	// to the clients whose suites call for it, and certificate rules judge
	// them all.
	Chains []ServedChain `json:"chains"`
	// ChainError says why no certificate was received (Chains empty): no
	// handshake was accepted, the Certificate message did not decode, the
	// TLS 1.3 handshake for it failed; ChainCause classifies a failure of
	// the network (see Status.Cause).
	ChainError string `json:"chain_error,omitempty"`
	ChainCause string `json:"chain_cause,omitempty"`
	// AnonymousOnly: every accepted suite authenticates without a
	// certificate (anonymous, NULL, PSK, SRP, Kerberos), so none is
	// presented by design.
	AnonymousOnly bool `json:"anonymous_only"`

	// CipherOrder says, per version with two or more suites, whose order
	// decides: "server" (the server kept its first choice when the client
	// reversed its list) or "client".
	CipherOrder map[string]string `json:"cipher_order"`
	// CBCFirst is, per version below TLS 1.3 that accepts both AEAD and
	// CBC suites, the suite the server chose from a hello listing every
	// accepted CBC suite before every accepted AEAD suite: an AEAD choice
	// shows the server enforces AEAD whatever the client prefers.
	CBCFirst []CBCFirstChoice `json:"cbc_first"`
	// Notes explain what could not be told and why (a version that did not
	// answer, a check skipped), for the report; rules do not judge them.
	Notes []string `json:"notes"`
}

// CipherSuite is one accepted suite with its IANA classification, so that
// rules can judge classes (no forward secrecy, CBC, export) without tables.
type CipherSuite struct {
	Version string `json:"version"` // TLSv1.2
	ID      string `json:"id"`      // 0xC02F
	Name    string `json:"name"`    // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	// Kex is the key exchange: RSA, DH, DHE, ECDH, ECDHE, PSK, SRP, KRB5,
	// NULL, or ANY for TLS 1.3.
	Kex string `json:"kex"`
	// Auth is the authentication: RSA, DSS, ECDSA, anon, PSK, NULL, ANY.
	Auth string `json:"auth"`
	// Cipher is the bulk cipher: AES_128_GCM, CHACHA20_POLY1305, 3DES_EDE_CBC,
	// RC4_128, DES_CBC, NULL, ...
	Cipher string `json:"cipher"`
	// Mode is AEAD, CBC, STREAM or NULL.
	Mode string `json:"mode"`
	// MAC is SHA384, SHA256, SHA, MD5, or AEAD.
	MAC            string `json:"mac"`
	Bits           int    `json:"bits"`
	Export         bool   `json:"export"`
	ForwardSecrecy bool   `json:"forward_secrecy"`
}

// ServedChain is one certificate chain a server presented, with how it
// verifies.
type ServedChain struct {
	// Certificates are the chain as served, leaf first, as far as they
	// parse (Error says why one did not).
	Certificates []Certificate `json:"certificates"`
	// ServedWith lists the authentication of the suites whose handshakes
	// presented it (RSA, ECDSA, DSS), or the protocol (TLSv1.3, SSLv2)
	// when the suite does not say.
	ServedWith []string `json:"served_with"`
	// Trusted: the chain verifies for server use against the system roots
	// or the CA bundle the user gave; TrustError says why not.
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
	// NameMatches: the leaf is valid for TLS.NameChecked.
	NameMatches bool `json:"name_matches"`
	// Error says which certificate of the chain did not parse.
	Error string `json:"error,omitempty"`
}

// CBCFirstChoice is the server's pick from a hello that prefers CBC.
type CBCFirstChoice struct {
	Version string `json:"version"`
	// Chosen is the suite's name and Mode its mode (AEAD or CBC); both are
	// empty when Error says why the hello got no choice, and Cause
	// classifies that (see Status.Cause).
	Chosen string `json:"chosen"`
	Mode   string `json:"mode"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
}

// NamespaceSpec says that tls facts come from a live endpoint; probe checks read them.
func (TLS) NamespaceSpec() Spec {
	return Spec{Targets: []string{"endpoint"}, Checks: []string{"probe"}}
}
