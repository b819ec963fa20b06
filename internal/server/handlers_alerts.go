package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// alertAdmin is what the alerts page and API need of the store: the
// outbox by state, its counts, and an admin's retry or discard of dead
// letters; Enqueue queues the server's own alerts.
type alertAdmin interface {
	Outbox(ctx context.Context, state string, limit int) ([]store.OutboxItem, error)
	OutboxStats(ctx context.Context) (store.OutboxStats, error)
	RetryDead(ctx context.Context, id int64, now time.Time, a store.Audit) (int, error)
	DiscardDead(ctx context.Context, id int64, now time.Time, a store.Audit) error
	Enqueue(ctx context.Context, items []store.OutboxItem) (int, error)
}

// alertRow is an outbox item with what its event says.
type alertRow struct {
	store.OutboxItem
	Title, Target string
}

func alertRows(items []store.OutboxItem) []alertRow {
	out := make([]alertRow, 0, len(items))
	for _, it := range items {
		var e alert.Event
		_ = json.Unmarshal(it.Body, &e)
		// Errors stored before URLs were redacted at delivery.
		it.LastError = alert.ScrubURLs(it.LastError)
		out = append(out, alertRow{OutboxItem: it, Title: e.Title, Target: e.Target})
	}
	return out
}

// destRow is a destination as the alerts page shows it: its URL in full
// to admins only (it may be a credential), redacted to others.
type destRow struct {
	Name, Format, URL, Kinds, MinSeverity string
}

func (s *Server) destRows(admin bool) []destRow {
	out := make([]destRow, 0, len(s.dests))
	for _, d := range s.dests {
		u := alert.RedactURL(d.URL)
		if admin {
			u = d.URL
		}
		kinds := strings.Join(d.Kinds, ", ")
		if kinds == "" {
			kinds = "all"
		}
		out = append(out, destRow{Name: d.Name, Format: d.Format, URL: u, Kinds: kinds, MinSeverity: d.MinSeverity})
	}
	return out
}

type alertsView struct {
	Destinations []destRow
	Stats        store.OutboxStats
	Dead         []alertRow
	Retrying     []alertRow
	RetryFor     time.Duration
}

// pageLimit bounds the alert lists on the page.
const pageLimit = 200

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, ok, flash string) {
	ctx := r.Context()
	p, _ := principalOf(r)
	v := alertsView{RetryFor: s.cfg.Alerts.RetryFor, Destinations: s.destRows(p.Role == auth.RoleAdmin)}
	var err error
	if v.Stats, err = s.store.OutboxStats(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	dead, err := s.store.Outbox(ctx, store.OutboxDead, pageLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending, err := s.store.Outbox(ctx, store.OutboxPending, pageLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var retrying []store.OutboxItem
	for _, it := range pending {
		if it.Attempts > 0 {
			retrying = append(retrying, it)
		}
	}
	v.Dead, v.Retrying = alertRows(dead), alertRows(retrying)
	s.render(w, r, status, "alerts", web.Page{Title: "Alerts", Nav: "alerts", OK: ok, Flash: flash, Data: v})
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, u store.User) {
	s.renderAlerts(w, r, http.StatusOK, "", "")
}

// deadLetterID reads a dead letter's id ("all" is 0, for retries).
func deadLetterID(v string, allowAll bool) (int64, error) {
	if v == "all" && allowAll {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("id %q is not a dead letter's id", v)
	}
	return id, nil
}

// retryDead puts one dead letter (or all, id 0) back in the queue and
// wakes the dispatcher.
func (s *Server) retryDead(r *http.Request, id int64) (int, error) {
	subject := "all dead letters"
	if id > 0 {
		subject = s.deadLetterName(r, id)
	}
	n, err := s.store.RetryDead(r.Context(), id, s.now(), s.auditEntry(r, "", "alert.retry", subject, ""))
	if err == nil {
		s.wakeAlerts()
	}
	return n, err
}

func (s *Server) discardDead(r *http.Request, id int64) error {
	return s.store.DiscardDead(r.Context(), id, s.now(), s.auditEntry(r, "", "alert.discard", s.deadLetterName(r, id), ""))
}

// deadLetterName names a dead letter for the audit log.
func (s *Server) deadLetterName(r *http.Request, id int64) string {
	dead, _ := s.store.Outbox(r.Context(), store.OutboxDead, 1000)
	for _, it := range dead {
		if it.ID == id {
			return fmt.Sprintf("#%d %s to %s (%s)", id, it.Kind, it.Destination, it.Key)
		}
	}
	return fmt.Sprintf("#%d", id)
}

const noDeadLetter = "No such dead letter (delivered, discarded or retried meanwhile)."

func (s *Server) retryAlert(w http.ResponseWriter, r *http.Request, u store.User) {
	id, err := deadLetterID(r.PostFormValue("id"), true)
	if err != nil {
		s.renderAlerts(w, r, http.StatusBadRequest, "", err.Error())
		return
	}
	n, err := s.retryDead(r, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderAlerts(w, r, http.StatusNotFound, "", noDeadLetter)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.renderAlerts(w, r, http.StatusOK, fmt.Sprintf("%d dead letter(s) queued again, with a new %s retry window.", n, s.cfg.Alerts.RetryFor), "")
	}
}

func (s *Server) discardAlert(w http.ResponseWriter, r *http.Request, u store.User) {
	id, err := deadLetterID(r.PostFormValue("id"), false)
	if err != nil {
		s.renderAlerts(w, r, http.StatusBadRequest, "", err.Error())
		return
	}
	err = s.discardDead(r, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderAlerts(w, r, http.StatusNotFound, "", noDeadLetter)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.renderAlerts(w, r, http.StatusOK, "Dead letter discarded.", "")
	}
}

// apiAlert is an outbox item as the API shows it: the event as JSON.
type apiAlert struct {
	ID          int64           `json:"id"`
	Destination string          `json:"destination"`
	Key         string          `json:"idempotency_key"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	CreatedAt   time.Time       `json:"created_at"`
	EnqueuedAt  time.Time       `json:"enqueued_at"`
	Attempts    int             `json:"attempts"`
	NextAttempt *time.Time      `json:"next_attempt,omitempty"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	DeadAt      *time.Time      `json:"dead_at,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Event       json.RawMessage `json:"event"`
}

// GET /api/v1/alerts?state=dead|pending|delivered|discarded&limit=
func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.OutboxDead
	}
	switch state {
	case store.OutboxDead, store.OutboxPending, store.OutboxDelivered, store.OutboxDiscarded:
	default:
		writeJSONError(w, http.StatusBadRequest, "state must be dead, pending, delivered or discarded")
		return
	}
	limit, _, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	items, err := s.store.Outbox(r.Context(), state, limit)
	if err != nil {
		s.apiError(w, err)
		return
	}
	stats, err := s.store.OutboxStats(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := make([]apiAlert, 0, len(items))
	for _, it := range items {
		a := apiAlert{ID: it.ID, Destination: it.Destination, Key: it.Key, Kind: it.Kind, State: it.State, CreatedAt: it.CreatedAt, EnqueuedAt: it.EnqueuedAt,
			Attempts: it.Attempts, DeliveredAt: it.DeliveredAt, DeadAt: it.DeadAt, LastError: alert.ScrubURLs(it.LastError), Event: json.RawMessage(it.Body)}
		if !json.Valid(it.Body) {
			a.Event = json.RawMessage("null")
		}
		if it.State == store.OutboxPending {
			next := it.NextAttempt
			a.NextAttempt = &next
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out, "stats": stats})
}

// POST /api/v1/alerts/retry?id=N|all
func (s *Server) apiRetryAlert(w http.ResponseWriter, r *http.Request) {
	id, err := deadLetterID(r.URL.Query().Get("id"), true)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.retryDead(r, id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"queued": n})
}

// POST /api/v1/alerts/discard?id=N
func (s *Server) apiDiscardAlert(w http.ResponseWriter, r *http.Request) {
	id, err := deadLetterID(r.URL.Query().Get("id"), false)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.discardDead(r, id); err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"discarded": id})
}
