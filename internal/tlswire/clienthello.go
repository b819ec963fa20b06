package tlswire

import "net"

// Handshake message types.
const (
	HSHelloRequest       uint8 = 0
	HSClientHello        uint8 = 1
	HSServerHello        uint8 = 2
	HSNewSessionTicket   uint8 = 4
	HSEncryptedExts      uint8 = 8
	HSCertificate        uint8 = 11
	HSServerKeyExchange  uint8 = 12
	HSCertificateRequest uint8 = 13
	HSServerHelloDone    uint8 = 14
	HSCertificateVerify  uint8 = 15
	HSClientKeyExchange  uint8 = 16
	HSFinished           uint8 = 20
	HSCertificateStatus  uint8 = 22
)

// Extension codes.
const (
	ExtServerName          uint16 = 0
	ExtStatusRequest       uint16 = 5
	ExtSupportedGroups     uint16 = 10
	ExtECPointFormats      uint16 = 11
	ExtSignatureAlgorithms uint16 = 13
	ExtALPN                uint16 = 16
	ExtPadding             uint16 = 21
	ExtEncryptThenMAC      uint16 = 22
	ExtExtendedMasterSec   uint16 = 23
	ExtSessionTicket       uint16 = 35
	ExtSupportedVersions   uint16 = 43
	ExtPSKKeyExchangeModes uint16 = 45
	ExtKeyShare            uint16 = 51
	ExtRenegotiationInfo   uint16 = 0xff01
)

// Signalling suite values.
const (
	SuiteRenegotiationSCSV uint16 = 0x00FF
	SuiteFallbackSCSV      uint16 = 0x5600
)

// KeyShare is one TLS 1.3 key_share entry.
type KeyShare struct {
	Group uint16
	Data  []byte
}

// ClientHello is a TLS (or SSLv3) ClientHello to be built by hand. Zero
// values leave an extension out.
type ClientHello struct {
	// Version is the legacy_version field; TLS 1.3 hellos say TLS 1.2 here
	// and list 1.3 in SupportedVersions.
	Version     Version
	Random      [32]byte
	SessionID   []byte
	Suites      []uint16
	Compression []uint8 // nil means {0} (null)
	// NoExtensions leaves the extensions block out entirely (SSLv3 style).
	NoExtensions bool
	ServerName   string // omitted when empty or an IP literal
	Groups       []uint16
	PointFormats bool
	// UncompressedPointsOnly offers only the uncompressed point format
	// (a client that cannot decode compressed points).
	UncompressedPointsOnly bool
	SigAlgs                []uint16 // nil means the built-in broad list
	// SupportedVersions, when set, adds the supported_versions extension.
	SupportedVersions []Version
	// KeyShareExt adds key_share with KeyShares (which may be empty to ask
	// the server to name its group in a HelloRetryRequest).
	KeyShareExt bool
	KeyShares   []KeyShare
	// RenegotiationInfo, when non-nil, adds renegotiation_info with it.
	RenegotiationInfo    []byte
	SessionTicket        bool
	ExtendedMasterSecret bool
	ALPN                 []string
	// Pad adds RFC 7685 padding when the message would be 256-511 bytes long,
	// which some load balancers mishandle.
	Pad bool
}

// Marshal encodes the hello as a handshake message (with its four-byte
// header), ready for AppendRecords.
func (c *ClientHello) Marshal() []byte {
	var w builder
	w.u8(HSClientHello)
	w.vec(3, func() {
		w.u16(uint16(c.Version))
		w.raw(c.Random[:])
		w.vec(1, func() { w.raw(c.SessionID) })
		w.vec(2, func() {
			for _, s := range c.Suites {
				w.u16(s)
			}
		})
		w.vec(1, func() { w.raw(c.compression()) })
		if c.NoExtensions {
			return
		}
		w.vec(2, func() { c.extensions(&w) })
	})
	if c.Pad && !c.NoExtensions && len(w.b) >= 256 && len(w.b) < 512 {
		// Grow the hello to 512 bytes with a padding extension (its four
		// header bytes count); fix up the two length fields (message,
		// extensions block). When fewer than five bytes are missing, pad
		// with one byte and go a little past 512, as BoringSSL does: some
		// servers choke on an empty last extension.
		pad := 512 - len(w.b) - 4
		if pad < 1 {
			pad = 1
		}
		w.u16(ExtPadding)
		w.u16(uint16(pad))
		w.raw(make([]byte, pad))
		n := len(w.b) - 4
		w.b[1], w.b[2], w.b[3] = byte(n>>16), byte(n>>8), byte(n)
		extStart := 4 + 2 + 32 + 1 + len(c.SessionID) + 2 + 2*len(c.Suites) + 1 + len(c.compression())
		el := len(w.b) - extStart - 2
		w.b[extStart], w.b[extStart+1] = byte(el>>8), byte(el)
	}
	return w.b
}

func (c *ClientHello) compression() []uint8 {
	if c.Compression == nil {
		return []uint8{0}
	}
	return c.Compression
}

func (c *ClientHello) extensions(w *builder) {
	ext := func(typ uint16, body func()) {
		w.u16(typ)
		w.vec(2, body)
	}
	if c.ServerName != "" && net.ParseIP(c.ServerName) == nil {
		ext(ExtServerName, func() {
			w.vec(2, func() {
				w.u8(0)
				w.vec(2, func() { w.raw([]byte(c.ServerName)) })
			})
		})
	}
	if len(c.Groups) > 0 {
		ext(ExtSupportedGroups, func() {
			w.vec(2, func() {
				for _, g := range c.Groups {
					w.u16(g)
				}
			})
		})
	}
	if c.PointFormats {
		formats := []byte{0, 1, 2}
		if c.UncompressedPointsOnly {
			formats = formats[:1]
		}
		ext(ExtECPointFormats, func() { w.vec(1, func() { w.raw(formats) }) })
	}
	if c.Version >= VersionTLS12 || len(c.SupportedVersions) > 0 {
		algs := c.SigAlgs
		if algs == nil {
			algs = offeredSigAlgs
		}
		ext(ExtSignatureAlgorithms, func() {
			w.vec(2, func() {
				for _, a := range algs {
					w.u16(a)
				}
			})
		})
	}
	if len(c.ALPN) > 0 {
		ext(ExtALPN, func() {
			w.vec(2, func() {
				for _, p := range c.ALPN {
					w.vec(1, func() { w.raw([]byte(p)) })
				}
			})
		})
	}
	if c.SessionTicket {
		ext(ExtSessionTicket, func() {})
	}
	if c.ExtendedMasterSecret {
		ext(ExtExtendedMasterSec, func() {})
	}
	if c.RenegotiationInfo != nil {
		ext(ExtRenegotiationInfo, func() { w.vec(1, func() { w.raw(c.RenegotiationInfo) }) })
	}
	if len(c.SupportedVersions) > 0 {
		ext(ExtSupportedVersions, func() {
			w.vec(1, func() {
				for _, v := range c.SupportedVersions {
					w.u16(uint16(v))
				}
			})
		})
		ext(ExtPSKKeyExchangeModes, func() { w.vec(1, func() { w.u8(1) }) })
	}
	if c.KeyShareExt {
		ext(ExtKeyShare, func() {
			w.vec(2, func() {
				for _, ks := range c.KeyShares {
					w.u16(ks.Group)
					w.vec(2, func() { w.raw(ks.Data) })
				}
			})
		})
	}
}
