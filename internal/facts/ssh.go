package facts

// SSH is what a live SSH server offers before authentication. rampart
// never authenticates: it reads the banner and KEXINIT, and asks which
// authentication methods are offered with the "none" method.
type SSH struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Banner is the identification string, e.g. SSH-2.0-OpenSSH_9.2p1.
	Banner   string `json:"banner"`
	Software string `json:"software"`
	// Algorithm lists from the server's KEXINIT, in its order.
	Kex         []string  `json:"kex"`
	HostKeyAlgs []string  `json:"host_key_algorithms"`
	HostKeys    []HostKey `json:"host_keys"`
	// HostKeysError says which host keys could not be fetched, and why;
	// HostKeysCause classifies the first such failure (see Status.Cause).
	HostKeysError string   `json:"host_keys_error,omitempty"`
	HostKeysCause string   `json:"host_keys_cause,omitempty"`
	Ciphers       []string `json:"ciphers"`
	MACs          []string `json:"macs"`
	Compression   []string `json:"compression"`
	// AuthMethods are the methods offered after a "none" request; empty
	// with AuthError set when that could not be learned, and AuthCause
	// classifying it (see Status.Cause).
	AuthMethods []string `json:"auth_methods"`
	AuthError   string   `json:"auth_error,omitempty"`
	AuthCause   string   `json:"auth_cause,omitempty"`
	// PreAuthBanner is the USERAUTH_BANNER text sent before authentication.
	PreAuthBanner string `json:"pre_auth_banner"`
}

// HostKey is one host key the server holds.
type HostKey struct {
	Algorithm string `json:"algorithm"`
	Bits      int    `json:"bits"`
	SHA256    string `json:"sha256"`
}

// NamespaceSpec says that ssh facts come from a live endpoint; probe checks read them.
func (SSH) NamespaceSpec() Spec {
	return Spec{Targets: []string{"endpoint"}, Checks: []string{"probe"}}
}
