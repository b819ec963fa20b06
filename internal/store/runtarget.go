package store

import (
	"context"
	"fmt"
)

// RunTarget returns one target as a run saw it (ErrNotFound when the run
// did not cover it).
func (s *SQL) RunTarget(ctx context.Context, runID int64, name string) (RunTarget, error) {
	ts, err := s.runTargets(ctx, runID, ` AND target = ?`, name)
	if err != nil {
		return RunTarget{}, err
	}
	if len(ts) == 0 {
		return RunTarget{}, fmt.Errorf("target %s of run %d: %w", name, runID, ErrNotFound)
	}
	return ts[0], nil
}
