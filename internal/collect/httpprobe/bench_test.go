package httpprobe_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// benchCollect runs one full HTTP probe of tg per iteration (the base URL,
// the not-found probe and every catalogue path) with a fresh collector,
// as one scan of one endpoint does.
func benchCollect(b *testing.B, tg target.Target, intrusive bool) {
	env := &collect.Env{Dialer: &net.Dialer{}, Timeout: time.Minute, PerHost: 4, Intrusive: intrusive}
	b.ReportAllocs()
	for b.Loop() {
		f, err := httpprobe.New(httpprobe.Options{}).Collect(context.Background(), tg, env)
		if err != nil || f == nil || f.HTTP == nil {
			b.Fatalf("collect: %v", err)
		}
	}
}

func BenchmarkProbeLoopbackWSO2Weak(b *testing.B) {
	srv := startSim(b, &wso2Sim{password: "admin"}, true)
	benchCollect(b, simTarget(b, srv.URL+"/"), false)
}

func BenchmarkProbeLoopbackWSO2Hardened(b *testing.B) {
	srv := startSim(b, &wso2Sim{hardened: true}, true)
	benchCollect(b, simTarget(b, srv.URL+"/"), false)
}

func BenchmarkProbeEval(b *testing.B) {
	for _, tc := range []struct{ name, addr string }{{"weak", "127.0.0.1:8443"}, {"strong", "127.0.0.1:9443"}} {
		b.Run(tc.name, func(b *testing.B) {
			conn, err := net.DialTimeout("tcp", tc.addr, time.Second)
			if err != nil {
				testenv.Missing(b, "eval target %s not listening: %v", tc.addr, err)
			}
			_ = conn.Close()
			benchCollect(b, simTarget(b, "https://"+tc.addr+"/"), false)
		})
	}
}
