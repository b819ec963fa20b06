package tlsprobe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// prober scans one address. It is made per Collect call and discarded.
type prober struct {
	reg              *tlswire.Registry
	limiter          *hostLimiter
	limitKey         string
	perHost          int
	dialer           collect.Dialer
	addr             string
	sni              string
	connectTimeout   time.Duration
	handshakeTimeout time.Duration
	keyShares        []tlswire.KeyShare
	tlsCands         []uint16
	tls13Cands       []uint16
	rank             map[uint16]int
	stats            struct{ conns atomic.Int64 }
}

// errNotTLS: nothing the server said was TLS.
var errNotTLS = errors.New("the service does not speak TLS")

// scanResult is everything one scan learned, before it becomes facts.
type scanResult struct {
	versions    map[tlswire.Version]*versionResult
	sslv2Kinds  []uint32
	sslv2Cert   []byte
	groups      []uint16
	compression bool
	fallback    bool
	reneg       string
	renegNote   string
	chain13     [][]byte
	notes       []string
}

// offered lists the offered versions (SSLv2 excluded), newest first.
func (s *scanResult) offered() []tlswire.Version {
	var out []tlswire.Version
	for _, v := range []tlswire.Version{tlswire.VersionTLS13, tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL30} {
		if vr := s.versions[v]; vr != nil && vr.offered {
			out = append(out, v)
		}
	}
	return out
}

// best returns the newest offered version at or below limit.
func (s *scanResult) best(limit tlswire.Version) *versionResult {
	for _, v := range s.offered() {
		if v <= limit {
			return s.versions[v]
		}
	}
	return nil
}

type versionOutcome struct {
	vr  *versionResult
	err error
}

// run probes everything: versions and suites in parallel chains, then what
// depends on them (groups, compression, fallback, renegotiation, the TLS 1.3
// certificate), each starting as soon as what it needs is known.
func (p *prober) run(ctx context.Context) (*scanResult, error) {
	res := &scanResult{versions: map[tlswire.Version]*versionResult{}}
	tlsVersions := []tlswire.Version{tlswire.VersionSSL30, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	outcomes := map[tlswire.Version]*versionOutcome{}
	done := map[tlswire.Version]chan struct{}{}
	for _, v := range tlsVersions {
		outcomes[v] = &versionOutcome{}
		done[v] = make(chan struct{})
	}
	wait := func(vs ...tlswire.Version) bool {
		for _, v := range vs {
			select {
			case <-done[v]:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		extras []error
	)
	fail := func(what string, err error) {
		if err != nil {
			mu.Lock()
			extras = append(extras, fmt.Errorf("%s: %w", what, err))
			mu.Unlock()
		}
	}
	note := func(s string) {
		mu.Lock()
		res.notes = append(res.notes, s)
		mu.Unlock()
	}

	var sslv2Err error
	wg.Go(func() { res.sslv2Kinds, res.sslv2Cert, sslv2Err = p.sslv2(ctx) })
	for _, v := range tlsVersions {
		cands := p.tlsCands
		if v == tlswire.VersionTLS13 {
			cands = p.tls13Cands
		}
		wg.Go(func() {
			defer close(done[v])
			o := outcomes[v]
			o.vr, o.err = p.enumerate(ctx, v, cands)
		})
	}
	view := func() *scanResult {
		// Only called after the versions it reads are done.
		r := &scanResult{versions: map[tlswire.Version]*versionResult{}}
		for _, v := range tlsVersions {
			select {
			case <-done[v]:
				if o := outcomes[v]; o.err == nil {
					r.versions[v] = o.vr
				}
			default:
			}
		}
		return r
	}
	low := []tlswire.Version{tlswire.VersionSSL30, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12}

	// Client renegotiation: start at once at TLS 1.2 with every suite the
	// minimal client can finish; retry lower only if 1.2 is not offered.
	wg.Go(func() {
		state, why, err := p.clientRenegotiation(ctx, tlswire.VersionTLS12, nil)
		if err != nil {
			fail("client renegotiation", err)
			state, why = renegUnknown, err.Error()
		}
		if state == renegUnknown && wait(low...) {
			r := view()
			if r.versions[tlswire.VersionTLS12] == nil || !r.versions[tlswire.VersionTLS12].offered {
				switch b := r.best(tlswire.VersionTLS11); {
				case b != nil && b.version >= tlswire.VersionTLS10:
					state, why, err = p.clientRenegotiation(ctx, b.version, b.suites)
					if err != nil {
						fail("client renegotiation", err)
						state, why = renegUnknown, err.Error()
					}
				case b == nil && wait(tlswire.VersionTLS13) && view().versions[tlswire.VersionTLS13] != nil && view().versions[tlswire.VersionTLS13].offered:
					state, why = renegRejected, "only TLS 1.3 is offered, which has no renegotiation"
				case b == nil:
					why = "no protocol version with renegotiation is offered"
				}
			}
		}
		res.reneg, res.renegNote = state, why
	})

	// Named groups: TLS 1.3 when offered, else ECDHE curves at the best
	// older version.
	wg.Go(func() {
		if !wait(tlswire.VersionTLS13) {
			return
		}
		if vr := view().versions[tlswire.VersionTLS13]; vr != nil && vr.offered {
			g, err := p.groups13(ctx, vr.suites)
			res.groups = g
			fail("TLSv1.3 groups", err)
			return
		}
		if !wait(low...) {
			return
		}
		for _, v := range view().offered() {
			vr := view().versions[v]
			var ecdhe []uint16
			for _, id := range vr.suites {
				if s, _ := p.reg.Lookup(id); s.Kex == "ECDHE" {
					ecdhe = append(ecdhe, id)
				}
			}
			if len(ecdhe) > 0 {
				g, err := p.groups12(ctx, v, ecdhe)
				res.groups = g
				fail(v.String()+" curves", err)
				return
			}
		}
	})

	// Compression, fallback SCSV and the TLS 1.3 certificate need every
	// version's result.
	wg.Go(func() {
		if !wait(tlsVersions...) {
			return
		}
		r := view()
		var inner sync.WaitGroup
		if b := r.best(tlswire.VersionTLS12); b != nil {
			inner.Go(func() {
				c, err := p.compression(ctx, b.version, b.suites)
				res.compression = c
				fail("compression", err)
			})
		}
		if off := r.offered(); len(off) >= 2 {
			lower := r.versions[off[1]]
			inner.Go(func() {
				f, err := p.fallbackSCSV(ctx, lower.version, lower.suites)
				res.fallback = f
				fail("fallback SCSV", err)
			})
		}
		if b := r.best(tlswire.VersionTLS12); (b == nil || !hasCerts(b)) && r.versions[tlswire.VersionTLS13] != nil && r.versions[tlswire.VersionTLS13].offered {
			inner.Go(func() {
				c, err := p.chain13(ctx)
				res.chain13 = c
				fail("certificate", err)
			})
		}
		inner.Wait()
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var verrs []error
	anyTLS, allNotTLS := false, true
	for _, v := range tlsVersions {
		o := outcomes[v]
		if o.err != nil {
			if !errors.Is(o.err, tlswire.ErrNotTLS) {
				allNotTLS = false
			}
			verrs = append(verrs, fmt.Errorf("%s: %w", v, o.err))
			continue
		}
		allNotTLS = false
		res.versions[v] = o.vr
		if o.vr.offered || o.vr.sawAlert {
			anyTLS = true
		}
		if o.vr.noAnswer {
			note(v.String() + ": no answer within the handshake timeout; counted as not offered")
		}
	}
	anyTLS = anyTLS || len(res.sslv2Kinds) > 0
	switch {
	case !anyTLS && allNotTLS:
		return nil, fmt.Errorf("%w: %w", errNotTLS, errors.Join(verrs...))
	case !anyTLS && len(verrs) > 0:
		return nil, errors.Join(verrs...)
	case !anyTLS && allNoAnswer(res):
		return nil, fmt.Errorf("every hello: %w", errNoAnswer)
	case !anyTLS:
		return nil, fmt.Errorf("%w: the server closed every connection without a TLS answer", errNotTLS)
	case len(verrs) > 0:
		return nil, errors.Join(verrs...)
	}
	if sslv2Err != nil {
		note("SSLv2: " + sslv2Err.Error() + "; counted as not offered")
	}
	for _, e := range extras {
		if errors.Is(e, errUnoffered) || errors.Is(e, tlswire.ErrMalformed) || errors.Is(e, tlswire.ErrTooLarge) {
			return nil, e
		}
		note(e.Error())
	}
	slices.Sort(res.notes)
	return res, nil
}

func allNoAnswer(r *scanResult) bool {
	for _, vr := range r.versions {
		if !vr.noAnswer {
			return false
		}
	}
	return len(r.versions) > 0
}

func hasCerts(vr *versionResult) bool {
	for _, pk := range vr.picks {
		if len(pk.certs) > 0 {
			return true
		}
	}
	return false
}
