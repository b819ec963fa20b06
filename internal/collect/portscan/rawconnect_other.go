//go:build !linux

package portscan

import (
	"context"
)

// rawConnect is the connect scan's own engine, on Linux only: elsewhere
// every connect goes through the Dialer.
type rawConnect struct{}

// SocketOpener is a Dialer that can also open the raw socket of a connect
// scan where it dials from (Linux only).
type SocketOpener interface {
	OpenSocket(family int) (fd int, err error)
}

func rawEngine(any) *rawConnect { return nil }

func (*rawConnect) usable(string) bool { return false }

func (*rawConnect) run(context.Context, *connectScanner, string, []int, bool, *rttEstimator, func(connectResult, []int)) {
}
