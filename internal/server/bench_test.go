package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
)

// benchServer is a server whose store holds runs of a fleet of targets
// x 69 rules; it returns the server and a signed-in session cookie.
func benchServer(b *testing.B, targets, runs int) (*Server, *http.Cookie) {
	b.Helper()
	dir := b.TempDir()
	cfg, err := ParseConfig([]byte("data_dir: data\n"), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	cheap := auth.Params{Memory: 1024, Time: 1, Threads: 1}
	srv, err := New(context.Background(), Options{Config: cfg, AdminPassword: "a long bench password", PasswordParams: &cheap})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.store.Close() })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for r := 0; r < runs; r++ {
		rep := &finding.Report{SchemaVersion: finding.SchemaVersion, StartedAt: t0, FinishedAt: t0.Add(time.Duration(r) * time.Hour)}
		for i := 0; i < targets; i++ {
			name := fmt.Sprintf("https://10.0.%d.%d:9443/", i/250, i%250)
			rep.Targets = append(rep.Targets, finding.TargetInfo{Name: name, Kind: "endpoint", Profiles: []string{}})
			for k := 0; k < 69; k++ {
				st := finding.Pass
				if (k+r+i)%7 == 0 {
					st = finding.Fail
				}
				rep.Findings = append(rep.Findings, finding.Finding{RuleID: fmt.Sprintf("TLS-%03d", k), Title: "t", Target: name, Status: st,
					Severity: finding.Severity(1 + k%5), Domain: "tls", Message: "m", Fingerprint: finding.Fingerprint(name, fmt.Sprint(k), "")})
			}
		}
		rep.Finalize()
		if _, err := srv.store.SaveRun(context.Background(), store.RunInput{Report: rep, Source: "bench", Now: rep.FinishedAt}, nil); err != nil {
			b.Fatal(err)
		}
	}
	u, err := srv.store.UserByName(context.Background(), "admin")
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := srv.sessions.Start(context.Background(), rec, u); err != nil {
		b.Fatal(err)
	}
	return srv, rec.Result().Cookies()[0]
}

// The fleet page and the API's targets list for 50 targets x 69 rules
// with 20 runs of history.
func BenchmarkFleetPage(b *testing.B) {
	srv, c := benchServer(b, 50, 20)
	h := srv.Handler()
	for _, path := range []string{"/", "/api/v1/targets", "/diff"} {
		b.Run(path, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(c)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}
