package certinfo

// wso2DefaultFingerprint reports whether sha256hex is one of the SHA-256
// fingerprints (lower-case hex of the DER) of the certificates in WSO2's shipped default keystores, read from
// the real product files in the fixtures (shared/fixtures/wso2) by
// opening every wso2carbon and client-truststore store with the shipped
// password; internal/collect/wso2/keystore's tests check the list against
// those files.
func wso2DefaultFingerprint(sha256hex string) bool {
	switch sha256hex {
	// carbon-kernel 4.6.0/4.6.1 (IS 5.11, AM 3.2): 2019-10-23 to 2022-01-25.
	case "3612ad8f01b4ecf4714f0bc8e071b6403dd34c4dde62d81dd4b91d1aa356dee6":
		return true
	// carbon-kernel 4.6.3/4.9.0 (AM 4.1, MI 4.1, IS 6.1): 2022-01-26 to 2024-04-30.
	case "02e6217a58fe8ef0d191e30f6acf44cf08f47b4c18c6c64abdf2d487b48c0a00":
		return true
	// carbon-kernel 4.9.26 (MI 4.3): 2024-02-22 to 2026-05-27.
	case "80f154f2c82d4f5e8fb96a6374cc2310eb141bdcb168787cad9efa5b4407f385":
		return true
	// carbon-kernel 4.9.28 (AM 4.5): 2025-02-13 to 2027-05-19.
	case "1e1bcdeb0a46472150c55542a9cc02f39481e5dd1e6ea493c82b023cbe03b44c":
		return true
	// IS 7.1 wso2carbon.p12 (L=Santa Clara): 2025-01-08 to 2026-01-08.
	case "9bf78253a0cb3154d7f61e53a262fae12c2da7e00cb2603eeb1bd6093af981fe":
		return true
	}
	return false
}

// IsKnownWSO2Fingerprint reports whether sha256hex (lower-case hex of a
// certificate's DER) is one of the certificates WSO2 ships.
func IsKnownWSO2Fingerprint(sha256hex string) bool {
	return wso2DefaultFingerprint(sha256hex)
}
