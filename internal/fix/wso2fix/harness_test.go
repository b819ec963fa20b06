package wso2fix_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/wso2"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/fix/wso2fix"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtin "github.com/rampart-sec/rampart/rules"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// copyTree copies a fixture into a writable directory.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	testenv.CopyTree(t, src, dst)
	return dst
}

type scanned struct {
	facts    *facts.Facts
	findings []finding.Finding
	status   map[string]finding.Status
}

func loadRules(t testing.TB) []*rules.Rule {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := set.Filter(nil, nil)
	return rs
}

// scanDir runs the WSO2 collector and every rule over a directory.
func scanDir(t testing.TB, rs []*rules.Rule, dir, hostname string) scanned {
	t.Helper()
	s := &scan.Scanner{
		Collectors:  []collect.Collector{wso2.New()},
		Rules:       rs,
		Env:         collect.Env{Now: func() time.Time { return testNow }, Timeout: time.Minute},
		Scan:        facts.DefaultScan(time.Time{}),
		Concurrency: 1,
	}
	tg := target.Target{Name: dir, Kind: target.Directory, Dir: dir}
	tg.Decl.Hostname = hostname
	res := s.Run(context.Background(), []target.Target{tg})
	if len(res.Facts) != 1 || res.Facts[0] == nil {
		t.Fatalf("scan of %s gave no facts", dir)
	}
	out := scanned{facts: res.Facts[0], findings: res.Report.Findings, status: map[string]finding.Status{}}
	for _, f := range res.Report.Findings {
		out.status[f.RuleID] = f.Status
	}
	return out
}

func options(keys *fixtest.Keys) wso2fix.Options {
	off := 3
	return wso2fix.Options{
		Hostname:   "node1.example.com",
		AdminUser:  "ops-admin",
		PortOffset: &off,
		Now:        testNow,
		Rand:       rand.Reader,
		Keys:       keys,
	}
}

// vaultCert is a certificate to encrypt with where the fixture has no
// keystore (the docker-compose sample mounts its stores at run time).
func vaultCert(t testing.TB, keys *fixtest.Keys) *x509.Certificate {
	t.Helper()
	k, err := keys.Key(keygen.RSA3072)
	if err != nil {
		t.Fatal(err)
	}
	der, err := keygen.SelfSigned(rand.Reader, k, keygen.CertRequest{Hostname: "is.example.com", NotBefore: testNow, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func planDir(t testing.TB, dir string, sc scanned, opt wso2fix.Options) *fix.Plan {
	t.Helper()
	plan, err := wso2fix.Plan(wso2fix.Input{Target: dir, Dir: dir, Facts: sc.facts, Findings: sc.findings}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
