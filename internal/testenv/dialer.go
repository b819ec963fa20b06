package testenv

import (
	"context"
	"net"
	"sync"
)

// CountingDialer dials like a net.Dialer and records how many connections
// were opened and the most held open at once, for tests of the per-host
// connection limits.
type CountingDialer struct {
	d                 net.Dialer
	mu                sync.Mutex
	open, peak, total int
}

// DialContext implements collect.Dialer.
func (d *CountingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.open++
	d.total++
	d.peak = max(d.peak, d.open)
	d.mu.Unlock()
	return &countedConn{Conn: c, d: d}, nil
}

// Stats returns the most connections open at once and the number opened.
func (d *CountingDialer) Stats() (peak, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.peak, d.total
}

type countedConn struct {
	net.Conn
	d    *CountingDialer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.d.mu.Lock()
		c.d.open--
		c.d.mu.Unlock()
	})
	return c.Conn.Close()
}
