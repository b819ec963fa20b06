package wso2

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

func collectWith(t *testing.T, c *Collector, fixture string) *facts.Product {
	t.Helper()
	tg := target.Target{Kind: target.Directory, Dir: filepath.Join(fixturesDir(t), fixture)}
	f, err := c.Collect(context.Background(), tg, &collect.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return f.Product
}

// TestCertCacheAcrossScans: a Collector that scanned a home before gives
// the same keystore facts as a fresh one, and describes each distinct
// certificate once (API-M 4.5's keystore holds its truststore's roots too).
func TestCertCacheAcrossScans(t *testing.T) {
	shared := New()
	first := collectWith(t, shared, "apim-4.5.0")
	n := shared.certs.len()
	distinct := map[string]bool{}
	entries := 0
	for _, ks := range first.Keystores {
		for _, e := range ks.Entries {
			distinct[e.Certificate.SHA256] = true
			entries++
		}
	}
	if n != len(distinct) || n == 0 || entries <= n {
		t.Fatalf("cache holds %d certificates; the stores hold %d distinct in %d entries", n, len(distinct), entries)
	}
	again := collectWith(t, shared, "apim-4.5.0")
	if shared.certs.len() != n {
		t.Errorf("the second scan added %d certificates", shared.certs.len()-n)
	}
	fresh := collectWith(t, New(), "apim-4.5.0")
	if !reflect.DeepEqual(again.Keystores, fresh.Keystores) || !reflect.DeepEqual(first.Keystores, fresh.Keystores) {
		t.Error("keystore facts differ between a warm and a fresh collector")
	}
	// Facts handed out do not share slices with the cache.
	for _, ks := range again.Keystores {
		for i := range ks.Entries {
			ks.Entries[i].Certificate.DNSNames = append(ks.Entries[i].Certificate.DNSNames, "mutated.example")
		}
	}
	if later := collectWith(t, shared, "apim-4.5.0"); !reflect.DeepEqual(later.Keystores, fresh.Keystores) {
		t.Error("a caller's change to returned facts reached the cache")
	}
}

// TestConcurrentScansShareCache: targets of an inventory are scanned at
// once with one Collector (run with -race).
func TestConcurrentScansShareCache(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for _, fx := range []string{"apim-4.5.0", "apim-4.1.0", "mi-4.3.0", "apim-4.5.0"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg := target.Target{Kind: target.Directory, Dir: filepath.Join(fixturesDir(t), fx)}
			if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestCertCacheBound(t *testing.T) {
	c := newCertCache()
	for i := 0; i < maxCachedCerts+10; i++ {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		c.put(k, facts.Certificate{})
	}
	if c.len() != maxCachedCerts {
		t.Errorf("cache holds %d, bound %d", c.len(), maxCachedCerts)
	}
}

func (c *certCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
