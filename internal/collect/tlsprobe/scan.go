package tlsprobe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// prober scans one address. It is made per Collect call and discarded.
type prober struct {
	reg *tlswire.Registry
	// net dials every connection, under the budget of host (the host as
	// the target names it, as the other probes key it).
	net              *collect.Net
	host             string
	addr             string
	sni              string
	connectTimeout   time.Duration
	handshakeTimeout time.Duration
	retryBackoff     time.Duration
	firstMoveWait    time.Duration
	tlsCands         []uint16
	tls13Cands       []uint16
	rank             map[uint16]int
	// lists and onPick tie the versions' enumerations to the probes that
	// reuse what they learn; both are set before the enumerations start
	// and may be nil (a prober used for one enumeration).
	lists  *longLists
	onPick map[tlswire.Version]func(*helloResult)
	// abort stops every probe of the scan with its cause: a handshake that
	// stalled (see stall). Set by run.
	abort context.CancelCauseFunc
}

// errNotTLS: nothing the server said was TLS.
var errNotTLS = netfail.New(netfail.ProtocolMismatch, "the service does not speak TLS")

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
	// chainErr says why chain13 could not be read.
	chainErr error
	// unknown are the versions whose hellos got no answer.
	unknown []string
	// compressionErr says why compression could not be tested.
	compressionErr error
	notes          []string
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
	// known is closed once offered is set: whether the version is offered,
	// learned from its first hello(s).
	known   chan struct{}
	offered bool
	once    sync.Once
	// group is closed once firstGroup is set: the named group of the first
	// pick that shows one (a TLS 1.3 HelloRetryRequest's, the curve of an
	// ECDHE ServerKeyExchange), or 0 when the enumeration ended without.
	group      chan struct{}
	firstGroup uint16
	groupOnce  sync.Once
}

func (o *versionOutcome) setGroup(g uint16) {
	o.groupOnce.Do(func() {
		o.firstGroup = g
		close(o.group)
	})
}

// pickGroup is the named group an accepting hello shows, or 0.
func pickGroup(r *helloResult) uint16 {
	switch {
	case r.sh == nil:
		return 0
	case r.version >= tlswire.VersionTLS13:
		return r.sh.KeyShareGroup
	case r.ske != nil && r.ske.Kind == "ecdh":
		return r.ske.Group
	}
	return 0
}

func (o *versionOutcome) setKnown(offered bool) {
	o.once.Do(func() {
		o.offered = offered
		close(o.known)
	})
}

// run probes everything: one elimination chain per version in parallel, and
// each probe that depends on the versions (renegotiation, groups,
// compression, fallback, the TLS 1.3 certificate) as soon as the first
// answers say which versions are offered.
func (p *prober) run(parent context.Context) (*scanResult, error) {
	ctx, abort := context.WithCancelCause(parent)
	defer abort(nil)
	p.abort = abort
	res := &scanResult{versions: map[tlswire.Version]*versionResult{}}
	tlsVersions := []tlswire.Version{tlswire.VersionSSL30, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	low := []tlswire.Version{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL30}
	outcomes := map[tlswire.Version]*versionOutcome{}
	p.onPick = map[tlswire.Version]func(*helloResult){}
	long := 0
	for _, v := range tlsVersions {
		o := &versionOutcome{known: make(chan struct{}), group: make(chan struct{})}
		outcomes[v] = o
		p.onPick[v] = func(r *helloResult) {
			if g := pickGroup(r); g != 0 {
				o.setGroup(g)
			}
		}
		if v != tlswire.VersionTLS13 && len(p.tlsCands) > chunkSize {
			long++
		}
	}
	p.lists = newLongLists(long)
	// offered waits until v's offer is known (false when ctx ends first).
	offered := func(v tlswire.Version) bool {
		select {
		case <-outcomes[v].known:
			return outcomes[v].offered
		case <-ctx.Done():
			return false
		}
	}
	// bestLow is the newest offered version at or below limit, or 0.
	bestLow := func(limit tlswire.Version) tlswire.Version {
		for _, v := range low {
			if v <= limit && offered(v) {
				return v
			}
		}
		return 0
	}
	var (
		wg     collect.Group
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

	// The versions' eliminations are the longest chains of hellos, TLS 1.2
	// (usually the one with most suites) first: the host's budget serves
	// connections in the order they ask for a slot.
	for _, v := range []tlswire.Version{tlswire.VersionTLS12, tlswire.VersionTLS13, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL30} {
		cands := p.tlsCands
		if v == tlswire.VersionTLS13 {
			cands = p.tls13Cands
		}
		wg.Go(func() {
			o := outcomes[v]
			defer o.setKnown(false) // on errors and refusals
			defer o.setGroup(0)
			o.vr, o.err = p.enumerate(ctx, v, cands, o.setKnown)
			if o.err == nil {
				o.vr.cbcFirst = p.cbcFirst(ctx, o.vr)
			}
		})
	}

	var sslv2Err error
	wg.Go(func() { res.sslv2Kinds, res.sslv2Cert, sslv2Err = p.sslv2(ctx) })

	// Client renegotiation: start at once at TLS 1.2 with every suite the
	// minimal client can finish; retry lower only if 1.2 is not offered.
	// Its errors (a handshake the minimal client cannot finish) leave the
	// answer unknown, with the reason; they do not fail the scan. Its hello
	// also offers DEFLATE, so it usually answers the compression question.
	renegDone := make(chan renegOutcome, 1)
	wg.Go(func() {
		out, err := p.clientRenegotiation(ctx, tlswire.VersionTLS12)
		if err != nil {
			out.state, out.note = renegUnknown, err.Error()
		}
		if out.state == renegUnknown && !offered(tlswire.VersionTLS12) {
			switch b := bestLow(tlswire.VersionTLS11); {
			case b >= tlswire.VersionTLS10:
				out, err = p.clientRenegotiation(ctx, b)
				if err != nil {
					out.state, out.note = renegUnknown, err.Error()
				}
			case b == 0 && offered(tlswire.VersionTLS13):
				out.state, out.note = renegRejected, "only TLS 1.3 is offered, which has no renegotiation"
			case b == 0:
				out.note = "no protocol version with renegotiation is offered"
			}
		}
		res.reneg, res.renegNote = out.state, out.note
		renegDone <- out
	})

	// Named groups: TLS 1.3 when offered, else ECDHE curves at the best
	// older version. Each starts from the group the enumeration's first
	// pick showed (its hello offered the same groups and suites), and
	// ECDHE curves are not asked for at all when the enumeration found no
	// ECDHE suite.
	firstGroup := func(v tlswire.Version) (uint16, bool) {
		select {
		case <-outcomes[v].group:
			return outcomes[v].firstGroup, true
		case <-ctx.Done():
			return 0, false
		}
	}
	wg.Go(func() {
		if offered(tlswire.VersionTLS13) {
			seed, ok := firstGroup(tlswire.VersionTLS13)
			if !ok {
				return
			}
			g, err := p.groups13(ctx, p.tls13Cands, seed)
			res.groups = g
			fail("TLSv1.3 groups", err)
			return
		}
		if b := bestLow(tlswire.VersionTLS12); b >= tlswire.VersionTLS10 {
			seed, ok := firstGroup(b)
			if !ok || seed == 0 {
				return
			}
			var ecdhe []uint16
			for _, id := range p.tlsCands {
				if s, _ := p.reg.Lookup(id); s.Kex == "ECDHE" {
					ecdhe = append(ecdhe, id)
				}
			}
			g, err := p.groups12(ctx, b, ecdhe, seed)
			res.groups = g
			fail(b.String()+" curves", err)
		}
	})

	// Compression and fallback SCSV at the best versions, and the
	// certificate of a server that speaks only TLS 1.3.
	wg.Go(func() {
		var r renegOutcome
		select {
		case r = <-renegDone:
		case <-ctx.Done():
			return
		}
		if r.compressionKnown {
			res.compression = r.compression
			return
		}
		if b := bestLow(tlswire.VersionTLS12); b != 0 {
			c, err := p.compression(ctx, b, p.tlsCands)
			res.compression, res.compressionErr = c, err
			fail("compression", err)
		}
	})
	wg.Go(func() {
		var off []tlswire.Version
		for _, v := range append([]tlswire.Version{tlswire.VersionTLS13}, low...) {
			if offered(v) {
				off = append(off, v)
			}
		}
		if len(off) >= 2 {
			f, err := p.fallbackSCSV(ctx, off[1], p.tlsCands)
			res.fallback = f
			fail("fallback SCSV", err)
		}
	})
	wg.Go(func() {
		if bestLow(tlswire.VersionTLS12) == 0 && offered(tlswire.VersionTLS13) {
			c, err := p.chain13(ctx)
			res.chain13, res.chainErr = c, err
			fail("certificate", err)
		}
	})
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err // a stalled handshake
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
			note(v.String() + ": no answer within the handshake timeout; whether it is offered is not known")
			res.unknown = append(res.unknown, v.String())
		}
	}
	anyTLS = anyTLS || len(res.sslv2Kinds) > 0
	switch {
	case !anyTLS && allNotTLS:
		return nil, fmt.Errorf("%w: %w", errNotTLS, errors.Join(verrs...))
	case !anyTLS && len(verrs) > 0:
		return nil, joinVersionErrors(verrs, tlsVersions, outcomes)
	case !anyTLS && allNoAnswer(res):
		return nil, fmt.Errorf("every hello: %w", errNoAnswer)
	case !anyTLS && allSilent(res):
		return nil, p.silentServer(parent)
	case !anyTLS:
		return nil, fmt.Errorf("%w: the server closed every connection without a TLS answer", errNotTLS)
	case len(verrs) > 0:
		return nil, errors.Join(verrs...)
	}
	if sslv2Err != nil {
		note("SSLv2: " + sslv2Err.Error() + "; whether it is offered is not known")
		res.unknown = append([]string{"SSLv2"}, res.unknown...)
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

// allSilent: every version's hellos were refused by a close without a byte.
func allSilent(r *scanResult) bool {
	for _, vr := range r.versions {
		if !vr.silent {
			return false
		}
	}
	return len(r.versions) > 0
}

func allNoAnswer(r *scanResult) bool {
	for _, vr := range r.versions {
		if !vr.noAnswer {
			return false
		}
	}
	return len(r.versions) > 0
}

// joinVersionErrors reports the versions' errors; when the server could not
// be reached at all (every version failed the same way, say "connection
// refused"), the reason is given once instead of once per version.
func joinVersionErrors(verrs []error, versions []tlswire.Version, outcomes map[tlswire.Version]*versionOutcome) error {
	var first string
	same := true
	for _, v := range versions {
		o := outcomes[v]
		if o.err == nil {
			same = false
			break
		}
		if first == "" {
			first = o.err.Error()
		} else if o.err.Error() != first {
			same = false
		}
	}
	if same && first != "" {
		return outcomes[versions[0]].err
	}
	return errors.Join(verrs...)
}
