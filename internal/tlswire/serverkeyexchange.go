package tlswire

import (
	"fmt"
	"math/big"
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
	r := reader{b: body}
	s := &ServerKeyExchange{Kind: kind}
	switch kind {
	case "dh":
		s.P = r.vec16("server_key_exchange.dh_p")
		s.G = r.vec16("server_key_exchange.dh_g")
		s.Public = r.vec16("server_key_exchange.dh_Ys")
		if r.err != nil {
			return nil, r.err
		}
		if len(s.P) == 0 || len(s.G) == 0 || len(s.Public) == 0 {
			return nil, fmt.Errorf("server_key_exchange: empty DH parameter: %w", ErrMalformed)
		}
		s.DHBits = new(big.Int).SetBytes(s.P).BitLen()
	case "ecdh":
		s.CurveType = r.u8("server_key_exchange.curve_type")
		switch s.CurveType {
		case 3:
			s.Group = r.u16("server_key_exchange.named_curve")
		case 1, 2:
			// Explicit curves: the parameters are not parsed; the group stays 0.
			s.Params = body
			return s, r.err
		default:
			if r.err == nil {
				return nil, fmt.Errorf("server_key_exchange: curve type %d: %w", s.CurveType, ErrMalformed)
			}
		}
		s.Public = r.vec8("server_key_exchange.ec_point")
		if r.err == nil && len(s.Public) == 0 {
			return nil, fmt.Errorf("server_key_exchange: empty EC point: %w", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("server_key_exchange for key exchange %q: %w", kind, ErrUnexpected)
	}
	if r.err != nil {
		return nil, r.err
	}
	s.Params = body[:len(body)-len(r.b)]
	s.Signature = r.b
	return s, nil
}
