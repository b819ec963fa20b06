package wso2

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
)

// maxCachedCerts bounds the certificate cache (a few hundred bytes each).
const maxCachedCerts = 8192

// certCache holds certificate facts by the SHA-256 of the certificate's
// DER. One Collector keeps one for every scan it runs: parsing about 150
// CA roots of a default truststore is the costliest step of a product scan,
// and the nodes of a fleet, or API-M 4.5's keystore and truststore, hold
// the same certificates. Safe for concurrent scans.
type certCache struct {
	mu sync.Mutex
	m  map[[32]byte]facts.Certificate
}

func newCertCache() *certCache { return &certCache{m: map[[32]byte]facts.Certificate{}} }

func (c *certCache) get(k [32]byte) (facts.Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[k]
	return f, ok
}

func (c *certCache) put(k [32]byte, f facts.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) < maxCachedCerts {
		c.m[k] = f
	}
}

// describeCerts fills r.certs of every opened store, each distinct
// certificate described once, in the background over all CPUs so the rest
// of the scan goes on meanwhile. The returned function waits for it.
func (p *product) describeCerts(results []*openResult) (wait func()) {
	type slot struct {
		r *openResult
		i int
	}
	todo := map[[32]byte][]slot{}
	var order [][32]byte
	for _, r := range results {
		if r.err != nil {
			continue
		}
		r.certs = make([]facts.Certificate, len(r.store.Entries))
		for i, e := range r.store.Entries {
			if len(e.Chain) == 0 {
				continue // a key whose certificate is missing: Entry.Error says so
			}
			k := sha256.Sum256(e.Chain[0])
			if c, ok := p.certs.get(k); ok {
				r.certs[i] = c
				continue
			}
			if _, seen := todo[k]; !seen {
				order = append(order, k)
			}
			todo[k] = append(todo[k], slot{r, i})
		}
	}
	if len(order) == 0 {
		return func() {}
	}
	// Workers take the next certificate by index: no feeder that a
	// panicked worker could leave blocked.
	var next atomic.Int64
	var wg collect.Group
	workers := min(runtime.GOMAXPROCS(0), len(order))
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(order) {
					return
				}
				k := order[i]
				first := todo[k][0]
				f := certinfo.FromDER(first.r.store.Entries[first.i].Chain[0])
				for _, s := range todo[k] {
					s.r.certs[s.i] = f
				}
				p.certs.put(k, f)
			}
		})
	}
	return wg.Wait
}
