package tlsprobe

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/rampart-sec/rampart/internal/tlswire"
)

// seedGroups starts a group enumeration over all from seed, the group a
// first hello over all already showed (0: none).
func seedGroups(all []uint16, seed uint16, v tlswire.Version) (found, rest []uint16, err error) {
	if seed == 0 {
		return nil, all, nil
	}
	if !slices.Contains(all, seed) {
		return nil, nil, fmt.Errorf("%s server chose group %s: %w", v, tlswire.LookupGroup(seed).Name, errUnoffered)
	}
	return []uint16{seed}, remove(all, seed), nil
}

// groups13 enumerates the named groups a TLS 1.3 server accepts: the hello
// carries no key share, so the server must name its choice in a
// HelloRetryRequest; remove it and ask again. seed is the group the
// enumeration's first hello (the same suites and groups) showed, or 0.
func (p *prober) groups13(ctx context.Context, suites []uint16, seed uint16) ([]uint16, error) {
	found, rest, err := seedGroups(allGroups(), seed, tlswire.VersionTLS13)
	if err != nil {
		return nil, err
	}
	for len(rest) > 0 {
		ch := p.hello(tlswire.VersionTLS13, suites)
		ch.Groups = rest
		ch.KeyShares = nil
		r, err := p.exchange(ctx, ch, tlswire.VersionTLS10)
		if err != nil {
			return found, err
		}
		if !acceptedAt(r, tlswire.VersionTLS13) {
			return found, nil
		}
		g := r.sh.KeyShareGroup
		if !slices.Contains(rest, g) {
			return found, fmt.Errorf("TLSv1.3 server chose group %s: %w", tlswire.LookupGroup(g).Name, errUnoffered)
		}
		found = append(found, g)
		rest = remove(rest, g)
	}
	return found, nil
}

// groups12 enumerates the curves a TLS 1.2 (or older) server uses for
// ECDHE, from the curve its ServerKeyExchange names. seed is the curve of
// the enumeration's first ECDHE pick (whose hello offered the same
// groups), or 0.
func (p *prober) groups12(ctx context.Context, v tlswire.Version, ecdheSuites []uint16, seed uint16) ([]uint16, error) {
	found, rest, err := seedGroups(ecGroups(), seed, v)
	if err != nil {
		return nil, err
	}
	for len(rest) > 0 {
		ch := p.hello(v, ecdheSuites)
		ch.Groups = rest
		r, err := p.exchange(ctx, ch, recordVersion(v))
		if err != nil {
			return found, err
		}
		if !acceptedAt(r, v) || r.ske == nil || r.ske.Kind != "ecdh" || r.ske.Group == 0 {
			return found, nil
		}
		g := r.ske.Group
		if !slices.Contains(rest, g) {
			return found, fmt.Errorf("%s server chose curve %s: %w", v, tlswire.LookupGroup(g).Name, errUnoffered)
		}
		found = append(found, g)
		rest = remove(rest, g)
	}
	return found, nil
}

// compression reports whether the server accepts DEFLATE when offered.
func (p *prober) compression(ctx context.Context, v tlswire.Version, suites []uint16) (bool, error) {
	ch := p.hello(v, suites)
	ch.Compression = []uint8{1, 0}
	r, err := p.exchange(ctx, ch, recordVersion(v))
	if err != nil {
		return false, err
	}
	return acceptedAt(r, v) && r.sh.Compression != 0, nil
}

// fallbackSCSV reports whether the server refuses a hello at a version below
// its best that carries TLS_FALLBACK_SCSV (RFC 7507).
func (p *prober) fallbackSCSV(ctx context.Context, v tlswire.Version, suites []uint16) (bool, error) {
	ch := p.hello(v, suites)
	ch.Suites = append(ch.Suites, tlswire.SuiteFallbackSCSV)
	r, err := p.exchange(ctx, ch, recordVersion(v))
	if err != nil {
		return false, err
	}
	return r.refused && r.alert != nil && r.alert.Description == tlswire.AlertInappropriateFallbk, nil
}

// sslv2 sends an SSLv2 CLIENT-HELLO offering every SSLv2 cipher kind.
func (p *prober) sslv2(ctx context.Context) (kinds []uint32, cert []byte, err error) {
	c, err := p.dial(ctx, "SSLv2 hello")
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var all []uint32
	for _, s := range p.reg.SSLv2() {
		all = append(all, s.ID)
	}
	var challenge [16]byte
	_, _ = io.ReadFull(c.Rand(), challenge[:])
	if _, err := c.Write(tlswire.MarshalSSLv2ClientHello(all, challenge)); err != nil {
		return nil, nil, nil
	}
	sh, err := tlswire.ReadSSLv2ServerHello(c)
	if err != nil {
		if _, e := classifyReadErr(ctx, err); e == errNoAnswer || e == ctx.Err() {
			return nil, nil, e
		}
		return nil, nil, nil // refused, an alert, an SSLv2 error or garbage: not SSLv2
	}
	for _, k := range sh.CipherKinds {
		if slices.Contains(all, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, sh.Certificate, nil
}
