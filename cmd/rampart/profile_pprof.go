//go:build pprof

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole process to the file
// RAMPART_CPUPROFILE names, in a binary built with -tags pprof, for the
// benchmark scripts' profiling runs:
//
//	go build -tags pprof -o /tmp/rampart ./cmd/rampart
//	RAMPART=/tmp/rampart RAMPART_CPUPROFILE=/tmp/cpu.prof scripts/bench/fleet.sh
//
// The function it returns stops the profile.
func startProfile() func() {
	path := os.Getenv("RAMPART_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rampart: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "rampart: cpu profile:", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "rampart: cpu profile:", err)
		}
	}
}
