//go:build linux

package portscan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rampart-sec/rampart/internal/collect"
)

// rawConnect is the connect scan's engine on Linux: non-blocking sockets
// connected in batches and waited for together with poll(2), as nmap -sT
// does, instead of a goroutine and the runtime's poller per connect (which
// costs two epoll_ctl calls, a goroutine park and wake-up, and a timer per
// port: about half again the CPU of the kernel's own work on a refused
// connect). The kernel does the same TCP handshake either way.
type rawConnect struct {
	// open opens a socket of the family (unix.AF_INET, unix.AF_INET6) in
	// the network namespace the scan dials from.
	open func(family int) (int, error)
}

// rawEngine returns the raw engine for dialer, or nil when its connects
// cannot be made that way: a Dialer that dials from another namespace must
// open the sockets there (SocketOpener), and a *net.Dialer is used as is
// only when nothing (a local address, a Control hook) changes its connects.
func rawEngine(dialer any) *rawConnect {
	switch d := dialer.(type) {
	case SocketOpener:
		return &rawConnect{open: d.OpenSocket}
	case *net.Dialer:
		if d.LocalAddr != nil || d.Control != nil || d.ControlContext != nil {
			return nil
		}
		return &rawConnect{open: func(family int) (int, error) {
			return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		}}
	}
	return nil
}

// SocketOpener is a Dialer that can also open the raw socket of a connect
// scan where it dials from (a socket stays in the network namespace it was
// made in): non-blocking, close-on-exec, TCP.
type SocketOpener interface {
	OpenSocket(family int) (fd int, err error)
}

// inflight is one connect under way.
type inflight struct {
	fd       int
	port     int
	started  time.Time
	deadline time.Time
	tries    int // local failures so far (stateRetry)
}

// sockaddr is ip:port as a socket address; ok is false for an address the
// engine does not take (a zoned IPv6 address).
func sockaddr(ip netip.Addr, port int) (unix.Sockaddr, int, bool) {
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}, unix.AF_INET, true
	}
	if ip.Zone() != "" {
		return nil, 0, false
	}
	return &unix.SockaddrInet6{Port: port, Addr: ip.As16()}, unix.AF_INET6, true
}

// usable reports whether the engine can scan ip.
func (r *rawConnect) usable(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	_, _, ok := sockaddr(a, 1)
	return ok
}

// run connects to every port of ports (see connectScanner.scan): the
// scan's window (s.workers connects under way) is shared by rawWorkers
// goroutines, each with its own poll set and its own tally.
func (r *rawConnect) run(ctx context.Context, s *connectScanner, ip string, ports []int, adaptive bool,
	est *rttEstimator, merge func(local connectResult, again []int)) {
	addr, _ := netip.ParseAddr(ip)
	var next atomic.Int64
	take := func() (int, bool) {
		i := int(next.Add(1)) - 1
		if i >= len(ports) {
			return 0, false
		}
		return ports[i], true
	}
	wait := func() error { return nil }
	if s.limiter != nil {
		wait = func() error { return s.limiter.Wait(ctx) }
	}
	workers := min(rawWorkers(), max(1, len(ports)))
	window := max(1, s.workers/workers)
	var wg collect.Group
	for range workers {
		wg.Go(func() {
			var local connectResult
			var again []int
			timeout := s.maxTimeout
			n := 0
			timeoutNow := func() time.Duration {
				if adaptive && n%16 == 0 {
					timeout = est.timeout(s.minTimeout, s.maxTimeout)
				}
				n++
				return timeout
			}
			r.worker(ctx, addr, window, take, timeoutNow, wait, func(p int, st portState, rtt time.Duration, src string, transient int) {
				local.transient += transient
				if !s.tally(&local, est, p, st, rtt, src) {
					if adaptive && rtt < s.maxTimeout && transient <= maxTransient && rtt > 0 {
						again = append(again, p)
					} else {
						local.filtered++
						s.progress.add(false)
					}
				}
			})
			merge(local, again)
		})
	}
	wg.Wait()
}

// rawWorkers is how many goroutines share a scan's window: one per CPU
// (each spends its time in the kernel), at most four.
func rawWorkers() int { return min(max(1, runtime.GOMAXPROCS(0)), 4) }

// pollSlice bounds one poll(2), so a cancelled scan stops soon.
const pollSlice = 50 * time.Millisecond

// worker connects to the ports next hands it, keeping up to window
// connects under way, and reports each port's state to decide (with the
// connect's round trip and, for an open port, the local address).
func (r *rawConnect) worker(ctx context.Context, ip netip.Addr, window int, next func() (int, bool),
	timeout func() time.Duration, wait func() error, decide func(port int, st portState, rtt time.Duration, src string, transient int)) {
	var (
		flying []inflight
		pfds   []unix.PollFd
		again  []inflight // ports to try once more after a local failure
	)
	defer func() {
		for _, f := range flying {
			_ = unix.Close(f.fd)
		}
	}()
	done := false
	for ctx.Err() == nil && (!done || len(flying) > 0 || len(again) > 0) {
		// Fill the window: ports to try again first, then new ones.
		for len(flying) < window && ctx.Err() == nil {
			var f inflight
			switch {
			case len(again) > 0:
				f, again = again[0], again[1:]
			case !done:
				p, ok := next()
				if !ok {
					done = true
					continue
				}
				f = inflight{port: p}
			default:
			}
			if f.port == 0 {
				break
			}
			if err := wait(); err != nil {
				decide(f.port, stateFiltered, 0, "", f.tries)
				continue
			}
			st, g := r.start(ip, f, timeout())
			switch st {
			case stateRetry:
				g.tries++
				if g.tries > maxTransient {
					decide(g.port, stateFiltered, 0, "", g.tries)
				} else {
					again = append(again, g)
				}
			case stateOpen: // in flight
				flying = append(flying, g)
			default:
				decide(g.port, st, time.Since(g.started), "", g.tries)
			}
		}
		if len(flying) == 0 {
			if len(again) > 0 {
				// Local resources (ephemeral ports, descriptors) ran out
				// with nothing under way: give the kernel a moment.
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
			continue
		}
		now := time.Now()
		wake := flying[0].deadline
		pfds = pfds[:0]
		for _, f := range flying {
			pfds = append(pfds, unix.PollFd{Fd: int32(f.fd), Events: unix.POLLOUT})
			if f.deadline.Before(wake) {
				wake = f.deadline
			}
		}
		pollFor := min(max(wake.Sub(now), 0), pollSlice)
		n, err := unix.Poll(pfds, int(pollFor.Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			// poll itself failed (out of memory): what is under way
			// counts as a local failure.
			n = -1
		}
		now = time.Now()
		keep := flying[:0]
		for i, f := range flying {
			switch {
			case n < 0:
				_ = unix.Close(f.fd)
				f.tries++
				if f.tries > maxTransient {
					decide(f.port, stateFiltered, 0, "", f.tries)
				} else {
					again = append(again, f)
				}
			case pfds[i].Revents != 0:
				st, src := finish(f.fd, ip)
				_ = unix.Close(f.fd)
				if st == stateRetry {
					f.tries++
					if f.tries <= maxTransient {
						again = append(again, inflight{port: f.port, tries: f.tries})
						continue
					}
					st = stateFiltered
				}
				decide(f.port, st, now.Sub(f.started), src, f.tries)
			case !now.Before(f.deadline):
				_ = unix.Close(f.fd)
				decide(f.port, stateFiltered, now.Sub(f.started), "", f.tries)
			default:
				keep = append(keep, f)
			}
		}
		flying = keep
	}
}

// start opens a socket and starts its connect: stateOpen means under way
// (the connect's outcome comes with poll), stateClosed or stateFiltered a
// connect the kernel decided at once, stateRetry a local failure.
func (r *rawConnect) start(ip netip.Addr, f inflight, timeout time.Duration) (portState, inflight) {
	sa, family, _ := sockaddr(ip, f.port)
	fd, err := r.open(family)
	if err != nil {
		return classifyDialError(err), f
	}
	f.fd, f.started = fd, time.Now()
	f.deadline = f.started.Add(timeout)
	err = unix.Connect(fd, sa)
	switch {
	case err == nil, errors.Is(err, unix.EINPROGRESS):
		return stateOpen, f
	case errors.Is(err, unix.EINTR):
		// The connect goes on; poll says how it ends.
		return stateOpen, f
	}
	_ = unix.Close(fd)
	st := classifyDialError(err)
	if st == stateOpen {
		st = stateFiltered
	}
	return st, f
}

// finish says how the connect of fd, which poll reported, ended: open
// (with the local address), closed, filtered, or a local failure. A
// connection to itself (the kernel chose the port scanned as the local
// port of a loopback connect: a simultaneous open) says nothing about the
// port, and is tried again, as net.Dialer does.
func finish(fd int, ip netip.Addr) (portState, string) {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return stateRetry, ""
	}
	if errno != 0 {
		st := classifyDialError(unix.Errno(errno))
		if st == stateOpen {
			st = stateFiltered
		}
		return st, ""
	}
	la, err := unix.Getsockname(fd)
	if err != nil {
		return stateRetry, ""
	}
	ra, err := unix.Getpeername(fd)
	if err != nil {
		// Connected, then reset before we asked: the port answered.
		return stateOpen, addrString(la)
	}
	if selfConnected(la, ra) {
		return stateRetry, ""
	}
	return stateOpen, addrString(la)
}

// selfConnected reports whether a connection's two ends are one address.
func selfConnected(la, ra unix.Sockaddr) bool {
	switch l := la.(type) {
	case *unix.SockaddrInet4:
		r, ok := ra.(*unix.SockaddrInet4)
		return ok && l.Port == r.Port && l.Addr == r.Addr
	case *unix.SockaddrInet6:
		r, ok := ra.(*unix.SockaddrInet6)
		return ok && l.Port == r.Port && l.Addr == r.Addr
	}
	return false
}

func addrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr).String()
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr).Unmap().String()
	}
	return ""
}
