package wso2fix_test

import (
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/wso2fix"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// BenchmarkPlanLargest plans every fix of the largest fixture (API-M 4.5.0,
// 186 files): the effective configuration read again, the new keystore
// (PBKDF2, MAC), the truststore rewritten, a self-signed certificate
// signed, a dozen secrets encrypted, every edit rendered. The key pairs
// come from the test keys: an RSA 3072 prime search (about a second, and
// random) is the crypto library's, not the planner's; it is reported by
// BenchmarkRSA3072Keygen alone.
func BenchmarkPlanLargest(b *testing.B) {
	rs := loadRules(b)
	dir := copyTree(b, filepath.Join(testenv.Shared(b), "fixtures", "wso2", "apim-4.5.0"))
	sc := scanDir(b, rs, dir, "")
	keys := &fixtest.Keys{}
	opt := options(keys)
	in := wso2fix.Input{Target: dir, Dir: dir, Facts: sc.facts, Findings: sc.findings}
	b.ReportAllocs()
	for b.Loop() {
		p, err := wso2fix.Plan(in, opt)
		if err != nil || len(p.Changes) == 0 {
			b.Fatal(err)
		}
	}
}
