// Package schedule says when scheduled audits run: every fixed interval,
// or at the times a five-field cron expression names (parsed with
// robfig/cron), and runs them one after the other.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is one named schedule.
type Schedule struct {
	Name       string
	Every      time.Duration
	Cron       string
	RunAtStart bool
	cron       cron.Schedule
}

// MinInterval is the shortest interval allowed.
const MinInterval = time.Second

// Parse builds a schedule from an interval or a cron expression (exactly
// one of them).
func Parse(name string, every time.Duration, expr string) (Schedule, error) {
	s := Schedule{Name: name, Every: every, Cron: expr}
	switch {
	case every != 0 && expr != "":
		return s, errors.New("give either every or cron, not both")
	case every != 0:
		if every < MinInterval {
			return s, fmt.Errorf("every %s is shorter than %s", every, MinInterval)
		}
	case expr != "":
		c, err := cron.ParseStandard(expr)
		if err != nil {
			return s, fmt.Errorf("cron %q: %w", expr, err)
		}
		s.cron = c
	default:
		return s, errors.New("needs every (an interval such as 6h) or cron (such as \"0 2 * * *\")")
	}
	return s, nil
}

// Next returns the first run time after t.
func (s Schedule) Next(t time.Time) time.Time {
	if s.cron != nil {
		return s.cron.Next(t)
	}
	return t.Add(s.Every)
}

// String describes the schedule.
func (s Schedule) String() string {
	if s.Cron != "" {
		return "cron " + s.Cron
	}
	return "every " + s.Every.String()
}

// Runner fires schedules and calls Run for each firing, one at a time: a
// firing that comes while a run is under way waits for it, and firings of
// the same schedule that pile up meanwhile collapse into one.
type Runner struct {
	Schedules []Schedule
	Run       func(ctx context.Context, name string)
	Now       func() time.Time
	Logger    *slog.Logger
	// NextRuns, when set, is called with each schedule's next run time.
	NextRuns func(name string, next time.Time)
}

// Start runs until ctx is done.
func (r *Runner) Start(ctx context.Context) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	queued := map[string]bool{}
	var order []string
	fire := make(chan string)
	for _, s := range r.Schedules {
		go func() {
			if s.RunAtStart {
				select {
				case fire <- s.Name:
				case <-ctx.Done():
					return
				}
			}
			for {
				next := s.Next(now())
				if r.NextRuns != nil {
					r.NextRuns(s.Name, next)
				}
				t := time.NewTimer(time.Until(next))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				select {
				case fire <- s.Name:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	busy := false
	done := make(chan struct{})
	start := func(name string) {
		busy = true
		log.Info("scheduled scan starting", "schedule", name)
		go func() {
			defer func() { done <- struct{}{} }()
			r.Run(ctx, name)
		}()
	}
	for {
		select {
		case <-ctx.Done():
			if busy {
				<-done
			}
			return
		case name := <-fire:
			if !busy {
				start(name)
			} else if !queued[name] {
				queued[name] = true
				order = append(order, name)
			}
		case <-done:
			busy = false
			if len(order) > 0 {
				name := order[0]
				order = order[1:]
				delete(queued, name)
				start(name)
			}
		}
	}
}
