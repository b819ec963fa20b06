package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// openOnly opens the store (applying its migrations) and says how long it took.
func openOnly(ctx context.Context, storage string) error {
	start := time.Now()
	st, err := store.Open(ctx, storage)
	if err != nil {
		return err
	}
	fmt.Printf("store opened (migrations included) in %s\n", time.Since(start).Round(time.Millisecond))
	return st.Close()
}

// saveOne stores one more run over a seeded fleet: every target but the
// big one, with its latest findings, share of them changed (a failing one
// passes, any other fails), through SaveRun; it reports how long opening
// the store (its migrations) and SaveRun took, and the process's peak RSS.
func saveOne(ctx context.Context, storage string, share float64) error {
	start := time.Now()
	st, err := store.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Printf("store opened (migrations included) in %s\n", time.Since(start).Round(time.Millisecond))
	recs, err := st.Findings(ctx, store.Filter{})
	if err != nil {
		return err
	}
	var fs []finding.Finding
	names := map[string]bool{}
	var at time.Time
	for _, r := range recs {
		if strings.HasPrefix(r.Target, "https://big.") {
			continue
		}
		names[r.Target] = true
		fs = append(fs, r.Finding)
		at = maxTime(at, r.LastSeen)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	changed := 0
	for i := range fs {
		if rng.Float64() >= share {
			continue
		}
		changed++
		if fs[i].Status == finding.Fail {
			fs[i].Status = finding.Pass
		} else {
			fs[i].Status = finding.Fail
		}
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	at = at.Add(time.Hour)
	r := report(at, fs, list...)
	t := time.Now()
	d, err := st.SaveRun(ctx, store.RunInput{Report: r, Source: "bench", Now: at}, nil)
	if err != nil {
		return err
	}
	fmt.Printf("SaveRun: %d targets, %d findings, %d changed: %s (run %d: %d new failures, %d fixed)\n",
		len(list), len(fs), changed, time.Since(t).Round(time.Millisecond), d.RunID, len(d.NewFailures), len(d.Fixed))
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM") {
				log.Printf("peak RSS: %s", strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")))
			}
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
