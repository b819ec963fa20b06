package tlsprobe

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// chunkSize is the most suites offered in one hello once a server has shown
// that it chokes on the full list (some JSSE and older stacks fail long
// hellos outright rather than ignoring what they do not know).
const chunkSize = 64

// commonSuites are widely implemented suites from every era (AEAD, CBC,
// 3DES, RC4, DES, EXPORT, anonymous, NULL): a server that refuses the full
// list but accepts some of these chokes on the list's length.
var commonSuites = []uint16{
	0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9, 0x009E, 0x009F, 0x009C, 0x009D,
	0xC027, 0xC028, 0xC023, 0xC024, 0x0067, 0x006B, 0x003C, 0x003D,
	0xC013, 0xC014, 0xC009, 0xC00A, 0x0033, 0x0039, 0x002F, 0x0035, 0x0032, 0x0038,
	0x0045, 0x0088, 0x0041, 0x0084, 0x0096, 0x009A,
	0x000A, 0x0016, 0x0013, 0xC012, 0xC008, 0x0005, 0x0004, 0xC011, 0xC007,
	0x0009, 0x0015, 0x0012, 0x0003, 0x0006, 0x0008, 0x0014, 0x0011, 0x0007, 0x0062, 0x0064,
	0x0018, 0x001B, 0x0034, 0x003A, 0xC018, 0x0001, 0x0002, 0x003B,
}

// versionResult is what one protocol version's enumeration found.
type versionResult struct {
	version tlswire.Version
	offered bool
	// picks are the accepting ServerHellos, in the order they came.
	picks []*helloResult
	// suites are the accepted suites: the server's preference order when it
	// has one, else the client's (candidate) order.
	suites []uint16
	// serverPref is nil when fewer than two suites were accepted.
	serverPref *bool
	// chunked: the full candidate list was refused but chunks were not.
	chunked bool
	// noAnswer: the first hello timed out: whether the version is offered
	// is not known (facts.TLS.VersionsUnknown).
	noAnswer bool
	// sawAlert: the server answered the first hello with a TLS alert (it
	// speaks TLS, just not this version or these suites).
	sawAlert bool
	// silent: the server closed the connection on the hellos without a
	// byte (see helloResult.silent).
	silent bool
	// onPick, when set, sees every accepting ServerHello as it comes.
	onPick func(*helloResult)
	// cbcFirst is the server's choice when CBC suites are listed before
	// AEAD ones (nil when the version does not accept both).
	cbcFirst *cbcFirstResult
}

func (vr *versionResult) add(r *helloResult) {
	vr.picks = append(vr.picks, r)
	vr.suites = append(vr.suites, r.suite)
	if vr.onPick != nil {
		vr.onPick(r)
	}
}

// longLists collects whether the server takes a hello with the full
// candidate list at some version: then a refusal of that list at another
// version is a refusal, not a server choking on the list's length, and no
// short hello is needed to tell them apart. A nil *longLists knows nothing.
type longLists struct {
	mu      sync.Mutex
	pending int
	ok      bool
	done    chan struct{}
}

// newLongLists expects n first hellos with the full list.
func newLongLists(n int) *longLists {
	l := &longLists{pending: n, done: make(chan struct{})}
	if n == 0 {
		close(l.done)
	}
	return l
}

// report records one version's first answer to the full list (accepted: a
// ServerHello of any version came back). Each version reports once.
func (l *longLists) report(accepted bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == 0 {
		return
	}
	l.pending--
	if accepted && !l.ok {
		l.ok = true
		close(l.done)
		return
	}
	if l.pending == 0 && !l.ok {
		close(l.done)
	}
}

// taken waits until some version's first hello with the full list was
// accepted (true) or every one was answered without (false).
func (l *longLists) taken(ctx context.Context) bool {
	if l == nil {
		return false
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

// acceptedAt reports whether r is a ServerHello for exactly version v.
func acceptedAt(r *helloResult, v tlswire.Version) bool {
	return r.accepted() && r.version == v
}

// enumerate finds every suite in cands that the server accepts at version
// v, by elimination: offer the list, remove the suite the server picks,
// repeat until it refuses.
//
// known is called once, as soon as it is known whether v is offered, so
// that probes needing only that can start while the enumeration goes on.
func (p *prober) enumerate(ctx context.Context, v tlswire.Version, cands []uint16, known func(offered bool)) (*versionResult, error) {
	vr := &versionResult{version: v, onPick: p.onPick[v]}
	long := len(cands) > chunkSize
	reported := false
	defer func() {
		if long && !reported {
			p.lists.report(false)
		}
	}()
	first, err := p.suiteHello(ctx, v, cands)
	if long && err == nil {
		reported = true
		p.lists.report(first.accepted())
	}
	if errors.Is(err, errNoAnswer) {
		vr.noAnswer = true
		return vr, nil
	}
	if err != nil {
		return nil, err
	}
	if !acceptedAt(first, v) {
		vr.sawAlert = first.alert != nil || first.accepted()
		vr.silent = first.silent
		if first.accepted() || !long ||
			(first.alert != nil && first.alert.Description == tlswire.AlertProtocolVersion) {
			return vr, nil
		}
		// Refused without protocol_version: no common suite, or a server
		// that chokes on long hellos. If it took the same list at another
		// version, it does not choke. Otherwise a short hello of suites
		// from every era tells them apart in one connection.
		if p.lists.taken(ctx) {
			return vr, nil
		}
		short := slices.DeleteFunc(slices.Clone(commonSuites), func(id uint16) bool { return !slices.Contains(cands, id) })
		probe, err := p.suiteHello(ctx, v, short)
		if err == nil && !probe.silent {
			vr.silent = false
		}
		if err != nil || !acceptedAt(probe, v) {
			return vr, nil
		}
		vr, err = p.enumerateChunked(ctx, v, cands, true)
		if err == nil {
			known(vr.offered)
		}
		return vr, err
	}
	vr.offered = true
	vr.add(first)
	known(true)
	rest := remove(cands, first.suite)
	if len(rest) == 0 {
		return vr, nil
	}
	second, err := p.suiteHello(ctx, v, rest)
	if err != nil {
		return nil, err
	}
	if !acceptedAt(second, v) {
		return vr, nil
	}
	vr.add(second)
	rest = remove(rest, second.suite)
	// Whose order counts. The first hello listed every candidate in rank
	// order: a server following the client picks the best-ranked suite it
	// accepts. If the second pick is ranked before the first, the server
	// passed over a suite the client listed first: it has an order of its
	// own, and no hello is spent to learn it.
	pref := p.rank[second.suite] < p.rank[first.suite]
	if !pref {
		// Otherwise the order test: the rest in reverse, then the second
		// pick, then the first. A server with its own order picks the first
		// again (its favourite of all that is offered); one that honours the
		// client's order takes the first it accepts of that list, which is
		// a suite of the rest found by the same hello (or the second pick
		// when the rest holds none). So for such a server the test is also
		// the next step of the elimination.
		order, err := p.suiteHello(ctx, v, append(reversed(rest), second.suite, first.suite))
		if err != nil {
			return nil, err
		}
		pref = acceptedAt(order, v) && order.suite == first.suite
		if !pref && acceptedAt(order, v) && slices.Contains(rest, order.suite) {
			vr.add(order)
			rest = remove(rest, order.suite)
		}
	}
	vr.serverPref = &pref
	// The rest, one hello at a time: each finds one suite, and one refusal
	// ends the version (accepted suites + 1 hellos, the fewest that can
	// tell). Splitting the rest into parts eliminated side by side would
	// cost a refusal per part; the versions and the other probes already
	// run side by side within the host's budget.
	err = p.eliminate(ctx, v, rest, func(r *helloResult) { vr.add(r) })
	if !pref {
		sortByRank(vr.suites, p.rank)
	}
	return vr, err
}

func reversed(list []uint16) []uint16 {
	out := slices.Clone(list)
	slices.Reverse(out)
	return out
}

// serverPrefers offers [b, a] after the server chose a over b: a server
// with its own order picks a again, one that honours the client picks b.
func (p *prober) serverPrefers(ctx context.Context, v tlswire.Version, a, b uint16) (bool, error) {
	r, err := p.suiteHello(ctx, v, []uint16{b, a})
	if err != nil {
		return false, err
	}
	return acceptedAt(r, v) && r.suite == a, nil
}

// eliminate runs one elimination chain over cands.
func (p *prober) eliminate(ctx context.Context, v tlswire.Version, cands []uint16, sink func(*helloResult)) error {
	rest := slices.Clone(cands)
	for len(rest) > 0 {
		r, err := p.suiteHello(ctx, v, rest)
		if err != nil {
			return err
		}
		if !acceptedAt(r, v) {
			return nil
		}
		sink(r)
		rest = remove(rest, r.suite)
	}
	return nil
}

func (p *prober) eliminateParts(ctx context.Context, v tlswire.Version, parts [][]uint16, vr *versionResult) error {
	var mu sync.Mutex
	var wg collect.Group
	errs := make([]error, len(parts))
	for i, part := range parts {
		wg.Go(func() {
			errs[i] = p.eliminate(ctx, v, part, func(r *helloResult) {
				mu.Lock()
				vr.add(r)
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// enumerateChunked handles a server that refused the full list: offer it in
// chunks; if any chunk is accepted the server choked on length, so
// eliminate chunk by chunk and, if it has its own order, recover that order
// over the accepted suites.
func (p *prober) enumerateChunked(ctx context.Context, v tlswire.Version, cands []uint16, sawAlert bool) (*versionResult, error) {
	vr := &versionResult{version: v, chunked: true, onPick: p.onPick[v]}
	parts := splitContiguous(cands, chunkSize)
	if err := p.eliminateParts(ctx, v, parts, vr); err != nil {
		return nil, err
	}
	if len(vr.suites) == 0 {
		return &versionResult{version: v, sawAlert: sawAlert}, nil
	}
	vr.offered = true
	sortByRank(vr.suites, p.rank)
	if len(vr.suites) < 2 {
		return vr, nil
	}
	pref, err := p.serverPrefers(ctx, v, vr.suites[0], vr.suites[1])
	if err != nil {
		return nil, err
	}
	if !pref {
		// Maybe the server prefers the second: check the other way round.
		pref, err = p.serverPrefers(ctx, v, vr.suites[1], vr.suites[0])
		if err != nil {
			return nil, err
		}
	}
	vr.serverPref = &pref
	if pref && len(vr.suites) <= chunkSize {
		var order []uint16
		if err := p.eliminate(ctx, v, vr.suites, func(r *helloResult) { order = append(order, r.suite) }); err != nil {
			return nil, err
		}
		if len(order) == len(vr.suites) {
			vr.suites = order
		}
	}
	return vr, nil
}

func splitContiguous(list []uint16, size int) [][]uint16 {
	var parts [][]uint16
	for len(list) > 0 {
		n := min(size, len(list))
		parts = append(parts, list[:n:n])
		list = list[n:]
	}
	return parts
}
