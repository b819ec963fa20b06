//go:build !pprof

package main

// startProfile does nothing: only a binary built with -tags pprof writes
// a CPU profile (profile_pprof.go).
func startProfile() func() { return func() {} }
