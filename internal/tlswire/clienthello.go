package tlswire

import (
	"net"

	"golang.org/x/crypto/cryptobyte"
)

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
// header), ready for AppendRecords. A field longer than its length prefix
// allows (more than 32,767 suites, a session ID over 255 bytes) panics.
func (c *ClientHello) Marshal() []byte {
	// The extensions first: their length decides the padding.
	var exts []byte
	size := 4 + 2 + len(c.Random) + 1 + len(c.SessionID) + 2 + 2*len(c.Suites) + 1 + len(c.compression())
	if !c.NoExtensions {
		eb := cryptobyte.NewBuilder(make([]byte, 0, 512))
		c.extensions(eb)
		exts = eb.BytesOrPanic()
		size += 2 + len(exts)
	}
	pad := 0
	if c.Pad && !c.NoExtensions && size >= 256 && size < 512 {
		// Grow the hello to 512 bytes with a padding extension (its four
		// header bytes count). When fewer than five bytes are missing, pad
		// with one byte and go a little past 512, as BoringSSL does: some
		// servers choke on an empty last extension.
		pad = max(1, 512-size-4)
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, size+4+pad))
	b.AddUint8(HSClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(c.Version))
		b.AddBytes(c.Random[:])
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c.SessionID) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range c.Suites {
				b.AddUint16(s)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c.compression()) })
		if c.NoExtensions {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(exts)
			if pad > 0 {
				addExt(b, ExtPadding, func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, pad)) })
			}
		})
	})
	return b.BytesOrPanic()
}

func (c *ClientHello) compression() []uint8 {
	if c.Compression == nil {
		return []uint8{0}
	}
	return c.Compression
}

// addExt adds one extension: its type and its length-prefixed body.
func addExt(b *cryptobyte.Builder, typ uint16, body cryptobyte.BuilderContinuation) {
	b.AddUint16(typ)
	b.AddUint16LengthPrefixed(body)
}

// addUint16s adds a 16-bit length-prefixed list of 16-bit values.
func addUint16s(b *cryptobyte.Builder, vs []uint16) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range vs {
			b.AddUint16(v)
		}
	})
}

func (c *ClientHello) extensions(b *cryptobyte.Builder) {
	if c.ServerName != "" && net.ParseIP(c.ServerName) == nil {
		addExt(b, ExtServerName, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0) // host_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(c.ServerName)) })
			})
		})
	}
	if len(c.Groups) > 0 {
		addExt(b, ExtSupportedGroups, func(b *cryptobyte.Builder) { addUint16s(b, c.Groups) })
	}
	if c.PointFormats {
		formats := []byte{0, 1, 2}
		if c.UncompressedPointsOnly {
			formats = formats[:1]
		}
		addExt(b, ExtECPointFormats, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(formats) })
		})
	}
	if c.Version >= VersionTLS12 || len(c.SupportedVersions) > 0 {
		algs := c.SigAlgs
		if algs == nil {
			algs = offeredSigAlgs
		}
		addExt(b, ExtSignatureAlgorithms, func(b *cryptobyte.Builder) { addUint16s(b, algs) })
	}
	if len(c.ALPN) > 0 {
		addExt(b, ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, p := range c.ALPN {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
				}
			})
		})
	}
	empty := func(*cryptobyte.Builder) {}
	if c.SessionTicket {
		addExt(b, ExtSessionTicket, empty)
	}
	if c.ExtendedMasterSecret {
		addExt(b, ExtExtendedMasterSec, empty)
	}
	if c.RenegotiationInfo != nil {
		addExt(b, ExtRenegotiationInfo, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c.RenegotiationInfo) })
		})
	}
	if len(c.SupportedVersions) > 0 {
		addExt(b, ExtSupportedVersions, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, v := range c.SupportedVersions {
					b.AddUint16(uint16(v))
				}
			})
		})
		addExt(b, ExtPSKKeyExchangeModes, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) }) // psk_dhe_ke
		})
	}
	if c.KeyShareExt {
		addExt(b, ExtKeyShare, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, ks := range c.KeyShares {
					b.AddUint16(ks.Group)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ks.Data) })
				}
			})
		})
	}
}
