package tlsprobe

import (
	"context"
	"fmt"

	"github.com/rampart-sec/rampart/internal/tlswire"
)

// cbcFirstResult is what a server chose from a hello that lists every CBC
// suite it accepted at a version before every AEAD suite it accepted.
type cbcFirstResult struct {
	chosen uint16
	err    error
}

// cbcFirst asks, at a version where the server accepts both AEAD and CBC
// suites, which one it picks when the client prefers CBC. A server that
// enforces AEAD picks an AEAD suite whatever the client's order (its own
// order may still leave the client the choice among suites it ranks alike,
// as Go's crypto/tls does); one that follows the client picks CBC. This
// observation, not the order test alone, is what TLS-006 judges. It
// returns nil when the version does not accept both kinds.
func (p *prober) cbcFirst(ctx context.Context, vr *versionResult) *cbcFirstResult {
	if vr == nil || !vr.offered || vr.version >= tlswire.VersionTLS13 {
		return nil
	}
	var cbc, aead []uint16
	for _, id := range vr.suites {
		s, _ := p.reg.Lookup(id)
		switch s.Mode {
		case "CBC":
			cbc = append(cbc, id)
		case "AEAD":
			aead = append(aead, id)
		}
	}
	if len(cbc) == 0 || len(aead) == 0 {
		return nil
	}
	sortByRank(cbc, p.rank)
	sortByRank(aead, p.rank)
	r, err := p.suiteHello(ctx, vr.version, append(cbc, aead...))
	switch {
	case err != nil:
		return &cbcFirstResult{err: err}
	case !acceptedAt(r, vr.version):
		return &cbcFirstResult{err: fmt.Errorf("the server refused a %s hello of %d suites it had each accepted", vr.version, len(cbc)+len(aead))}
	}
	return &cbcFirstResult{chosen: r.suite}
}
