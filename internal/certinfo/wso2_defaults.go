package certinfo

import "github.com/rampart-sec/rampart/internal/wso2kb"

// IsKnownWSO2Fingerprint reports whether sha256hex (lower-case hex of a
// certificate's DER) is one of the certificates WSO2 ships in the default
// keystores of a described product version (products.yaml, each version's
// certificates; internal/collect/wso2/keystore's tests check the list
// against the real product files of the fixtures).
func IsKnownWSO2Fingerprint(sha256hex string) bool {
	return wso2kb.Default().KnownCertificate(sha256hex)
}

// PrepareWSO2Fingerprints reads the product catalogue
// IsKnownWSO2Fingerprint consults (a few milliseconds of YAML, once per
// process) ahead of its first use: a TLS probe calls it while it waits on
// the network, so that building its facts after the last handshake does
// not start with it.
func PrepareWSO2Fingerprints() { wso2kb.Default() }
