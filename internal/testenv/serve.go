package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Serve runs handle for every connection to a fresh listener on
// 127.0.0.1, each connection bounded by deadline, and returns the
// listener's address. When the test ends the listener closes and Serve
// waits for the handlers: a test server a test starts for itself, and stops.
func Serve(t testing.TB, deadline time.Duration, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeListener(t, ln, deadline, handle)
	return ln.Addr().String()
}

// ServeListener is Serve on a listener the test opened itself (inside a
// network namespace, on a chosen address).
func ServeListener(t testing.TB, ln net.Listener, deadline time.Duration, handle func(net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(deadline))
				handle(c)
			})
		}
	})
}
