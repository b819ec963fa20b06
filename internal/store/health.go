package store

import (
	"context"
	"fmt"
)

// RecordHealth stores one health check's sample.
func (s *SQL) RecordHealth(ctx context.Context, h HealthSample) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO health_samples (target, url, at, status, ok, latency_ms, anomaly, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		h.Target, h.URL, ms0(h.At), h.Status, b2i(h.OK), h.LatencyMS, b2i(h.Anomaly), h.Error)
	if err != nil {
		return fmt.Errorf("health sample %s: %w", h.URL, err)
	}
	return nil
}

const healthCols = `target, url, at, status, ok, latency_ms, anomaly, error`

func scanHealth(sc scanner) (HealthSample, error) {
	var h HealthSample
	var at int64
	var ok, anomaly int
	err := sc.Scan(&h.Target, &h.URL, &at, &h.Status, &ok, &h.LatencyMS, &anomaly, &h.Error)
	h.At, h.OK, h.Anomaly = fromMS(at), ok == 1, anomaly == 1
	return h, err
}

// HealthHistory returns the newest samples of url, newest first.
func (s *SQL) HealthHistory(ctx context.Context, url string, limit int) ([]HealthSample, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	return queryAll(ctx, s, "health history", scanHealth, `SELECT `+healthCols+` FROM health_samples WHERE url = ? ORDER BY at DESC, id DESC LIMIT ?`, url, limit)
}

// LatestHealth returns the newest sample of every URL.
func (s *SQL) LatestHealth(ctx context.Context) ([]HealthSample, error) {
	return queryAll(ctx, s, "latest health", scanHealth, `SELECT `+healthCols+` FROM health_samples h
WHERE id = (SELECT MAX(id) FROM health_samples h2 WHERE h2.url = h.url) ORDER BY target, url`)
}
