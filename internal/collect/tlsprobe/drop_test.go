package tlsprobe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// TestDroppingServer: a server that accepts and closes every connection
// without a byte (overloaded, at a connection limit, filtered) is an error
// naming the drop, for an endpoint of unknown scheme as for https:// —
// never "not TLS", which left every TLS rule not applicable.
func TestDroppingServer(t *testing.T) {
	port := rawServer(t, func(net.Conn) {})
	for _, scheme := range []string{"", "https"} {
		f, err := New(Options{RetryBackoff: 10 * time.Millisecond}).Collect(context.Background(), endpoint("127.0.0.1", port, scheme), &collect.Env{})
		if err == nil || !errors.Is(err, collect.ErrDropsConnections) || errors.Is(err, errNotTLS) {
			t.Errorf("scheme %q: facts %v, error %v; want the drop", scheme, f, err)
		}
	}
}

// dropEveryNth forwards connections to a TLS backend, but closes every
// nth without a word, as a server shedding load does: it reads the
// client's first record and hangs up. A record it dropped once it forwards
// when it comes again (the prober resends the same hello), so the drops
// are transient, as under load, and the test deterministic.
func dropEveryNth(t *testing.T, backend, n int) (port int, dropped *atomic.Int32) {
	var (
		count, drops atomic.Int32
		mu           sync.Mutex
		seen         = map[[32]byte]bool{}
	)
	port = rawServer(t, func(c net.Conn) {
		rec, err := tlswire.ReadRecord(c)
		if err != nil {
			return
		}
		raw := tlswire.AppendRecords(nil, rec.Type, tlswire.Version(rec.Version), rec.Payload)
		key := sha256.Sum256(raw)
		mu.Lock()
		drop := !seen[key] && count.Add(1)%int32(n) == 0
		if drop {
			seen[key] = true
		}
		mu.Unlock()
		if drop {
			drops.Add(1)
			return
		}
		b, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(backend)))
		if err != nil {
			return
		}
		defer b.Close()
		_, _ = b.Write(raw)
		go func() { _, _ = io.Copy(b, c); b.Close() }()
		_, _ = io.Copy(c, b)
	})
	return port, &drops
}

// TestDroppedHellosAreRetried: behind a proxy that drops every third
// connection, the scan finds exactly what it finds on the server itself:
// each dropped hello is sent again instead of counting as a refusal.
func TestDroppedHellosAreRetried(t *testing.T) {
	pki := newPKI(t, false)
	backend := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS10})
	want := probe(t, endpoint("127.0.0.1", backend, "https"), &collect.Env{}, Options{})
	port, drops := dropEveryNth(t, backend, 3)
	got := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{RetryBackoff: 10 * time.Millisecond})
	if drops.Load() == 0 {
		t.Fatal("the proxy dropped nothing")
	}
	if d := diff(want.Versions, got.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	for _, v := range want.Versions {
		if d := diff(sorted(suiteIDs(want, v)), sorted(suiteIDs(got, v))); d != "" {
			t.Errorf("%s suites with %d connections dropped: %s", v, drops.Load(), d)
		}
	}
	if len(got.Chains) != len(want.Chains) || got.ClientRenegotiation != want.ClientRenegotiation && !strings.Contains(got.ClientRenegotiationNote, "EOF") {
		t.Errorf("chains %d (want %d), renegotiation %q (%s), want %q", len(got.Chains), len(want.Chains), got.ClientRenegotiation, got.ClientRenegotiationNote, want.ClientRenegotiation)
	}
}
