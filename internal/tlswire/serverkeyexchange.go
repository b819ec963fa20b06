package tlswire

import (
	"fmt"
	"math/big"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// ServerKeyExchange holds the key-exchange parameters of a TLS 1.2 (or
// older) ServerKeyExchange. For "dh" P, G and Public are set and DHBits is
// the size of P; for "ecdh" CurveType, Group and Public are set. Params is
// the raw parameter block the signature covers.
type ServerKeyExchange struct {
	Kind      string
	P, G      []byte
	DHBits    int
	CurveType uint8 // 3 named_curve, 1 explicit_prime, 2 explicit_char2
	Group     uint16
	Public    []byte
	Params    []byte
	Signature []byte
}

// ParseServerKeyExchange decodes a ServerKeyExchange body for a key
// exchange of kind "dh" or "ecdh" (see Suite.ServerKeyExchange).
func ParseServerKeyExchange(body []byte, kind string) (*ServerKeyExchange, error) {
	in := cryptobyte.String(body)
	s := &ServerKeyExchange{Kind: kind}
	switch kind {
	case "dh":
		var p, g, y cryptobyte.String
		if !in.ReadUint16LengthPrefixed(&p) || !in.ReadUint16LengthPrefixed(&g) || !in.ReadUint16LengthPrefixed(&y) {
			return nil, truncated("server_key_exchange.dh_params")
		}
		s.P, s.G, s.Public = slices.Clip([]byte(p)), slices.Clip([]byte(g)), slices.Clip([]byte(y))
		if len(s.P) == 0 || len(s.G) == 0 || len(s.Public) == 0 {
			return nil, fmt.Errorf("server_key_exchange: empty DH parameter: %w", ErrMalformed)
		}
		s.DHBits = new(big.Int).SetBytes(s.P).BitLen()
	case "ecdh":
		if !in.ReadUint8(&s.CurveType) {
			return nil, truncated("server_key_exchange.curve_type")
		}
		switch s.CurveType {
		case 3:
			if !in.ReadUint16(&s.Group) {
				return nil, truncated("server_key_exchange.named_curve")
			}
		case 1, 2:
			// Explicit curves: the parameters are not parsed; the group stays 0.
			s.Params = body
			return s, nil
		default:
			return nil, fmt.Errorf("server_key_exchange: curve type %d: %w", s.CurveType, ErrMalformed)
		}
		var point cryptobyte.String
		if !in.ReadUint8LengthPrefixed(&point) {
			return nil, truncated("server_key_exchange.ec_point")
		}
		if len(point) == 0 {
			return nil, fmt.Errorf("server_key_exchange: empty EC point: %w", ErrMalformed)
		}
		s.Public = slices.Clip([]byte(point))
	default:
		return nil, fmt.Errorf("server_key_exchange for key exchange %q: %w", kind, ErrUnexpected)
	}
	s.Params = body[:len(body)-len(in)]
	s.Signature = []byte(in)
	return s, nil
}
