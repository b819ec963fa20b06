package facts

// Setting is one configured value and where it came from: a line the user
// wrote, or the product's shipped default (Origin.Note says which).
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Set is true when the value was found (in a file or as a default);
	// false means the key is absent everywhere.
	Set    bool   `json:"set"`
	Origin Origin `json:"origin"`
	// Unresolved says which references in the value the files cannot
	// answer ($env{VAR}, a $sys{prop} the start script does not set): the
	// real value is unknown.
	Unresolved string `json:"unresolved,omitempty"`
}

// Secret describes a configured secret without holding it. Form tells how
// it is written: "plain" (clear text in a file: deployment.toml, a
// [secrets] entry still in brackets behind a $secret{} reference, or the
// start script's -Dprop behind a $sys{prop}), "secret_ref" ($secret{alias},
// Secure Vault), "env_ref" ($env{VAR}), "sys_ref" ($sys{prop} or ${prop}
// given elsewhere), "encrypted" (cipher text), "empty", or "absent".
type Secret struct {
	Key  string `json:"key"`
	Form string `json:"form"`
	// Alias is the Secure Vault alias of a secret_ref; Resolved is true when
	// [secrets] defines it.
	Alias    string `json:"alias,omitempty"`
	Resolved bool   `json:"resolved"`
	// KnownDefault is true when the value equals a publicly known default
	// (wso2carbon, admin, dashboard, the shipped symmetric key).
	KnownDefault bool `json:"known_default"`
	// Unknown: the value cannot be read from the files (an environment
	// variable, a system property the start script does not set, a
	// $secret{} alias [secrets] does not define), so whether it is a known
	// default cannot be told. Origin.Note says why.
	Unknown bool `json:"unknown,omitempty"`
	// Kind is password, key or token.
	Kind   string `json:"kind"`
	Origin Origin `json:"origin"`
}
