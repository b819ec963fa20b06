package tlsprobe

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/rampart-sec/rampart/internal/tlswire"
)

// ecGroups lists the elliptic-curve groups offered in TLS 1.2 hellos,
// common ones first so that a client-preference server shows the usual pick.
// Each call returns a copy of its own.
func ecGroups() []uint16 { return slices.Clone(ecGroupList()) }

// allGroups lists every named group, for TLS 1.3 group enumeration. Each
// call returns a copy of its own.
func allGroups() []uint16 { return slices.Clone(allGroupList()) }

// ecGroupList and allGroupList are worked out once: every hello offers
// one of them, and tlswire.Groups copies its whole table each time.
var (
	ecGroupList = sync.OnceValue(func() []uint16 {
		first := []uint16{tlswire.GroupX25519, tlswire.GroupP256, tlswire.GroupP384, tlswire.GroupP521, 30}
		out := slices.Clone(first)
		for _, g := range tlswire.Groups() {
			if g.Kind == "ec" && !slices.Contains(first, g.ID) {
				out = append(out, g.ID)
			}
		}
		return out
	})
	allGroupList = sync.OnceValue(func() []uint16 {
		out := slices.Clone(ecGroupList())
		for _, g := range tlswire.Groups() {
			if g.Kind != "ec" {
				out = append(out, g.ID)
			}
		}
		return out
	})
)

// suiteRank orders candidates strongest first: forward secrecy, AEAD, key
// size, SHA-2 MACs, then code. A server that honours the client's order
// therefore shows the order a careful client would ask for.
func suiteRank(s tlswire.Suite) [9]int {
	b := func(v bool) int {
		if v {
			return 0
		}
		return 1
	}
	return [9]int{
		b(s.Auth != "anon" && s.Auth != "NULL" && s.Mode != "NULL" && !s.Export),
		b(s.ForwardSecrecy),
		b(s.Mode == "AEAD"),
		b(s.Kex == "ECDHE"),
		b(s.Bits >= 128),
		-s.Bits,
		b(s.MAC == "SHA256" || s.MAC == "SHA384" || s.MAC == "AEAD"),
		b(!s.Historic),
		int(s.ID),
	}
}

func orderedCandidates(suites []tlswire.Suite) []uint16 {
	type ranked struct {
		key [9]int
		id  uint16
	}
	rs := make([]ranked, len(suites))
	for i, s := range suites {
		rs[i] = ranked{suiteRank(s), uint16(s.ID)}
	}
	// The key ends in the code, which is unique: a plain sort is stable.
	slices.SortFunc(rs, func(a, b ranked) int { return slices.Compare(a.key[:], b.key[:]) })
	out := make([]uint16, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

// hello builds a ClientHello offering suites at version v. Its random
// and session ID are left zero: randomized fills them from the randomness
// of the connection that sends it.
func (p *prober) hello(v tlswire.Version, suites []uint16) *tlswire.ClientHello {
	ch := &tlswire.ClientHello{Version: v}
	switch {
	case v == tlswire.VersionSSL30:
		ch.NoExtensions = true
		ch.Suites = append(slices.Clone(suites), tlswire.SuiteRenegotiationSCSV)
	case v >= tlswire.VersionTLS13:
		ch.Version = tlswire.VersionTLS12
		ch.SessionID = make([]byte, 32) // filled by randomized
		ch.Suites = slices.Clone(suites)
		ch.SupportedVersions = []tlswire.Version{tlswire.VersionTLS13}
		// Every group, as the group enumeration offers them: the first
		// answer's group then counts for it.
		ch.Groups = allGroups()
		// No key share: the server must answer with a HelloRetryRequest,
		// which names its suite (and group) without the signature a full
		// ServerHello flight costs it.
		ch.KeyShareExt = true
		ch.ServerName = p.sni
		ch.Pad = true
	default:
		ch.Suites = append(slices.Clone(suites), tlswire.SuiteRenegotiationSCSV)
		ch.ServerName = p.sni
		ch.Groups = ecGroups()
		ch.PointFormats = true
		ch.SessionTicket = true
		ch.ExtendedMasterSecret = true
		ch.Pad = true
	}
	return ch
}

// helloLabel names the connection that sends msg, ch marshalled with a
// zero random and session ID, in a record of version rv: its version,
// suite count and a digest of the bytes, so two connections sending the
// same hello share a label and no two different hellos do.
func helloLabel(rv tlswire.Version, ch *tlswire.ClientHello, msg []byte) string {
	h := sha256.New()
	h.Write([]byte{byte(rv >> 8), byte(rv)})
	h.Write(msg)
	v := ch.Version
	if len(ch.SupportedVersions) > 0 {
		v = slices.Max(ch.SupportedVersions)
	}
	return fmt.Sprintf("%s hello, %d suites, %x", v, len(ch.Suites), h.Sum(nil)[:8])
}

// Offsets in a marshalled ClientHello: handshake header (4), version (2),
// random (32), session ID length (1), session ID.
const helloRandomAt, helloSessionIDAt = 4 + 2, 4 + 2 + 32 + 1

// fillRandom writes the random and the sidLen-byte session ID of a
// marshalled ClientHello from r.
func fillRandom(msg []byte, sidLen int, r io.Reader) {
	_, _ = io.ReadFull(r, msg[helloRandomAt:helloRandomAt+32])
	_, _ = io.ReadFull(r, msg[helloSessionIDAt:helloSessionIDAt+sidLen])
}

// randomized is a copy of ch with its random and (non-empty) session ID
// read from r.
func randomized(ch *tlswire.ClientHello, r io.Reader) *tlswire.ClientHello {
	out := *ch
	_, _ = io.ReadFull(r, out.Random[:])
	if len(ch.SessionID) > 0 {
		out.SessionID = make([]byte, len(ch.SessionID))
		_, _ = io.ReadFull(r, out.SessionID)
	}
	return &out
}

// recordVersion is the version in the hello's record header: TLS 1.0 for
// every TLS hello (what real clients send), SSL 3.0 for SSLv3.
func recordVersion(v tlswire.Version) tlswire.Version {
	return min(v, tlswire.VersionTLS10)
}

// suiteHello offers suites at version v.
func (p *prober) suiteHello(ctx context.Context, v tlswire.Version, suites []uint16) (*helloResult, error) {
	return p.exchange(ctx, p.hello(v, suites), recordVersion(v))
}

func remove(list []uint16, x uint16) []uint16 {
	return slices.DeleteFunc(slices.Clone(list), func(v uint16) bool { return v == x })
}

func sortByRank(ids []uint16, rank map[uint16]int) {
	slices.SortStableFunc(ids, func(a, b uint16) int { return cmp.Compare(rank[a], rank[b]) })
}
