package tlsprobe

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// The fewest TLS handshakes (connections) a full audit can make, from
// what it found (issue 14): each accepted suite is one pick, and each
// protocol version one hello that picks nothing (SSLv3, TLS 1.0 to 1.3);
// then the fixed probes:
//   - the SSLv2 hello;
//   - the renegotiation handshake (its hello offers DEFLATE: a second one
//     without it when the server took it, and the compression answer is
//     known);
//   - the fallback SCSV hello when two versions or more are offered;
//   - one CBC-first hello per version accepting CBC and AEAD suites;
//   - one hello per named group found (the first pick names one, and one
//     more hello finds none);
//   - the order test of a version with two suites or more, unless the
//     picks already showed that the server has an order of its own (its
//     second pick ranked before its first) or the test found a suite (a
//     server following the client's order, with a third suite to find);
//   - the certificate of a server that speaks only TLS 1.3.
func handshakeBound(t *testing.T, tf *facts.TLS) (int, string) {
	t.Helper()
	c := New(Options{})
	var why []string
	add := func(n int, what string) int {
		if n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, what))
		}
		return n
	}
	suites := map[string][]uint16{}
	for _, s := range tf.Suites {
		if s.Version == "SSLv2" {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimPrefix(s.ID, "0x"), 16, 16)
		if err != nil {
			t.Fatalf("suite id %q: %v", s.ID, err)
		}
		suites[s.Version] = append(suites[s.Version], uint16(id))
	}
	n := 0
	accepted := 0
	for _, ids := range suites {
		accepted += len(ids)
	}
	n += add(accepted, "accepted suites")
	n += add(5, "refusals (one per version, SSLv3 to TLS 1.3)")
	n += add(1, "SSLv2 hello")
	n += add(1, "renegotiation")
	if tf.Compression {
		n += add(1, "renegotiation without DEFLATE")
	}
	offered := 0
	for _, v := range tf.Versions {
		if v != "SSLv2" {
			offered++
		}
	}
	if offered >= 2 {
		n += add(1, "fallback SCSV")
	}
	n += add(len(tf.CBCFirst), "CBC-first hellos")
	n += add(len(tf.Groups), "group hellos")
	for v, ids := range suites {
		if len(ids) < 2 {
			continue
		}
		server := tf.CipherOrder[v] == "server"
		// Reported in the server's order when it has one: the first two
		// are its first two picks.
		if server && c.rank[ids[1]] > c.rank[ids[0]] || !server && len(ids) == 2 {
			n += add(1, v+" order test")
		}
	}
	if slices.Equal(tf.Versions, []string{tlswire.VersionTLS13.String()}) {
		n += add(1, "TLS 1.3 certificate")
	}
	return n, strings.Join(why, " + ")
}

// countingDialer counts the connections dialed through it.
type countingDialer struct {
	next   collect.Dialer
	n      atomic.Int64
	mu     sync.Mutex
	labels []string
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	d.mu.Lock()
	d.labels = append(d.labels, collect.DialLabel(ctx))
	d.mu.Unlock()
	return d.next.DialContext(ctx, network, addr)
}

// probeAtBound probes tg through env and fails the test unless the probe
// made exactly the fewest handshakes its findings allow.
func probeAtBound(t *testing.T, tg target.Target, env *collect.Env, opts Options) *facts.TLS {
	t.Helper()
	d := &countingDialer{next: env.Dialer}
	if d.next == nil {
		d.next = &net.Dialer{}
	}
	counted := *env
	counted.Dialer = d
	tf := probe(t, tg, &counted, opts)
	bound, why := handshakeBound(t, tf)
	if got := int(d.n.Load()); got != bound {
		slices.Sort(d.labels)
		t.Errorf("%d handshakes, want %d = %s; the connections:\n%s", got, bound, why, strings.Join(d.labels, "\n"))
	} else {
		t.Logf("%d handshakes = %s", got, why)
	}
	return tf
}
