// Package monitor watches the inventory's health endpoints (MON-001,
// HTTP-006): it requests each one on an interval, records the answer and
// response time, flags a response far above its recent baseline as an
// anomaly, and raises an alert when an endpoint goes down or turns slow.
package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/store"
)

// Endpoint is one health URL and the target it belongs to.
type Endpoint struct {
	Target string
	URL    string
}

// Samples is what the checker needs of the store: it records every check
// and reads an endpoint's recent ones for its latency baseline.
type Samples interface {
	RecordHealth(ctx context.Context, s store.HealthSample) error
	// HealthHistory returns the newest samples of url first.
	HealthHistory(ctx context.Context, url string, limit int) ([]store.HealthSample, error)
}

// Checker runs the health checks.
type Checker struct {
	Endpoints []Endpoint
	Client    *http.Client
	Store     Samples
	Interval  time.Duration
	Timeout   time.Duration
	// A response is anomalous when slower than SlowFactor times the median
	// of the last Baseline healthy responses (at least MinSamples of them)
	// and slower than MinSlow.
	SlowFactor float64
	MinSlow    time.Duration
	Baseline   int
	Now        func() time.Time
	Logger     *slog.Logger
	// Alert is called with the events a round raises (down, slow).
	Alert func(ctx context.Context, events []alert.Event)
	// Observe is called with every sample (for metrics).
	Observe func(store.HealthSample)

	mu    sync.Mutex
	state map[string]*epState
}

// MinSamples is how many healthy samples a baseline needs.
const MinSamples = 5

type epState struct {
	recent    []time.Duration // healthy latencies, oldest first
	down      bool
	downSince time.Time
	slow      bool
	loaded    bool
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run checks every endpoint each Interval until ctx is done.
func (c *Checker) Run(ctx context.Context) {
	if len(c.Endpoints) == 0 {
		return
	}
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		c.Round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round checks every endpoint once (concurrently) and returns the samples.
func (c *Checker) Round(ctx context.Context) []store.HealthSample {
	out := make([]store.HealthSample, len(c.Endpoints))
	var wg sync.WaitGroup
	for i, ep := range c.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.check(ctx, ep)
		}()
	}
	wg.Wait()
	var events []alert.Event
	for i, s := range out {
		if ev := c.judge(ctx, c.Endpoints[i], &out[i]); ev != nil {
			events = append(events, *ev)
		}
		if err := c.Store.RecordHealth(ctx, out[i]); err != nil && ctx.Err() == nil {
			c.log().Error("health sample", "url", s.URL, "err", err)
		}
		if c.Observe != nil {
			c.Observe(out[i])
		}
	}
	if len(events) > 0 && c.Alert != nil {
		c.Alert(ctx, events)
	}
	return out
}

// check requests one endpoint.
func (c *Checker) check(ctx context.Context, ep Endpoint) store.HealthSample {
	s := store.HealthSample{Target: ep.Target, URL: ep.URL, At: c.now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL, nil)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	req.Header.Set("Accept", "application/json")
	start := c.now()
	resp, err := c.Client.Do(req)
	if err != nil {
		s.LatencyMS = c.now().Sub(start).Milliseconds()
		s.Error = err.Error()
		if msg := certExpired(err, c.now()); msg != "" {
			s.Error = msg
		}
		return s
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	s.LatencyMS = c.now().Sub(start).Milliseconds()
	s.Status = resp.StatusCode
	s.OK = resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !s.OK {
		s.Error = fmt.Sprintf("status %d", resp.StatusCode)
	}
	return s
}

// judge updates the endpoint's state with a sample, flags anomalies and
// returns the alert the change raises, if any.
func (c *Checker) judge(ctx context.Context, ep Endpoint, s *store.HealthSample) *alert.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = map[string]*epState{}
	}
	st := c.state[ep.URL]
	if st == nil {
		st = &epState{}
		c.state[ep.URL] = st
	}
	if !st.loaded {
		st.loaded = true
		c.warm(ctx, ep.URL, st)
	}
	if !s.OK {
		if st.down {
			return nil
		}
		st.down, st.downSince = true, s.At
		ev := alert.HealthDown(ep.Target, ep.URL, s.At, s.Status, s.Error)
		return &ev
	}
	st.down = false
	lat := time.Duration(s.LatencyMS) * time.Millisecond
	base, ok := median(st.recent)
	var ev *alert.Event
	if ok && len(st.recent) >= MinSamples && lat > c.MinSlow && float64(lat) > c.SlowFactor*float64(base) {
		s.Anomaly = true
		if !st.slow {
			e := alert.HealthSlow(ep.Target, ep.URL, s.At, lat, base)
			ev = &e
		}
		st.slow = true
		// Anomalies stay out of the baseline so a slow spell does not
		// become the new normal at once.
		return ev
	}
	st.slow = false
	st.recent = append(st.recent, lat)
	if n := c.Baseline; len(st.recent) > n {
		st.recent = st.recent[len(st.recent)-n:]
	}
	return nil
}

// warm loads an endpoint's recent healthy samples so a restart keeps its
// baseline and its down state.
func (c *Checker) warm(ctx context.Context, url string, st *epState) {
	hs, err := c.Store.HealthHistory(ctx, url, c.Baseline*2)
	if err != nil || len(hs) == 0 {
		return
	}
	if !hs[0].OK {
		st.down = true
		st.downSince = hs[0].At
	}
	st.slow = hs[0].Anomaly
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].OK && !hs[i].Anomaly {
			st.recent = append(st.recent, time.Duration(hs[i].LatencyMS)*time.Millisecond)
		}
	}
	if len(st.recent) > c.Baseline {
		st.recent = st.recent[len(st.recent)-c.Baseline:]
	}
}

func median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	// A floor of 1 ms, so a baseline of sub-millisecond answers does
	// not make every few-millisecond hiccup an anomaly.
	return max(m, time.Millisecond), true
}

// certExpired words a certificate verification failure for an expired
// (or not yet valid) certificate in days: "certificate expired 12 days
// ago (2026-03-01)"; "" for any other error.
func certExpired(err error, now time.Time) string {
	var ce x509.CertificateInvalidError
	if !errors.As(err, &ce) || ce.Reason != x509.Expired || ce.Cert == nil {
		return ""
	}
	c := ce.Cert
	if now.Before(c.NotBefore) {
		return fmt.Sprintf("certificate not valid for %d more days (from %s)", daysBetween(now, c.NotBefore), c.NotBefore.UTC().Format(time.DateOnly))
	}
	return fmt.Sprintf("certificate expired %s (%s): %s", DaysAgo(now.Sub(c.NotAfter)), c.NotAfter.UTC().Format(time.DateOnly), c.Subject.CommonName)
}

// DaysAgo words a past duration in whole days: "today", "1 day ago",
// "12 days ago".
func DaysAgo(d time.Duration) string {
	n := int(d.Hours() / 24)
	switch {
	case n <= 0:
		return "today"
	case n == 1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", n)
}

func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours()/24) + 1 }
