package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
	"github.com/rampart-sec/rampart/internal/zone"
)

// zoneViews is what the zone pages read from the store.
type zoneViews interface {
	Exposure(ctx context.Context, target string) (store.ZoneExposure, error)
	Exposures(ctx context.Context, limit int) ([]store.ZoneExposure, error)
	RecentRounds(ctx context.Context, limit int) ([]store.ZoneRound, error)
	DeadJobs(ctx context.Context, limit int) ([]store.DeadJob, error)
	CountDeadJobs(ctx context.Context) (int, error)
}

// zonesView is the zones page and GET /api/v1/zones.
type zonesView struct {
	Enabled   bool                 `json:"enabled"`
	NATS      string               `json:"nats"`
	External  bool                 `json:"external"`
	Queues    []coord.ZoneQueue    `json:"zones"`
	Agents    []coord.AgentView    `json:"agents"`
	Rounds    []store.ZoneRound    `json:"rounds"`
	Dead      []store.DeadJob      `json:"dead_letters"`
	DeadCount int                  `json:"dead_letter_count"`
	Exposures []store.ZoneExposure `json:"exposures"`
	// New is the secret of credentials just created (shown once).
	New *newAgentView `json:"-"`
}

type newAgentView struct {
	Name, Zone, Kind, Secret, Command, CA string
}

func (s *Server) zonesData(ctx context.Context) (zonesView, error) {
	v := zonesView{Enabled: s.zones != nil, External: s.cfg.NATS.External()}
	if s.zones == nil {
		return v, nil
	}
	v.NATS = s.cfg.NATS.Listen
	if v.External {
		v.NATS = s.cfg.NATS.URL
	}
	zv, ok := s.store.(zoneViews)
	if !ok {
		return v, errors.New("zones: this store has no zone views")
	}
	v.Queues, v.Agents = s.zones.co.Queues(ctx), s.zones.co.Agents()
	var err error
	if v.Rounds, err = zv.RecentRounds(ctx, 20); err != nil {
		return v, err
	}
	if v.Dead, err = zv.DeadJobs(ctx, pageLimit); err != nil {
		return v, err
	}
	if v.DeadCount, err = zv.CountDeadJobs(ctx); err != nil {
		return v, err
	}
	if v.Exposures, err = zv.Exposures(ctx, 1000); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) zonesPage(w http.ResponseWriter, r *http.Request, u store.User) {
	s.renderZones(w, r, http.StatusOK, nil, "", "")
}

func (s *Server) renderZones(w http.ResponseWriter, r *http.Request, status int, created *newAgentView, ok, flash string) {
	v, err := s.zonesData(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.New = created
	s.render(w, r, status, "zones", web.Page{Title: "Zones", Nav: "zones", OK: ok, Flash: flash, Data: v})
}

// matrixView is one target's exposure matrix page.
type matrixView struct {
	Exposure store.ZoneExposure
	Matrix   zone.Matrix
}

func (s *Server) exposure(ctx context.Context, name string) (matrixView, error) {
	zv, ok := s.store.(zoneViews)
	if !ok || s.zones == nil {
		return matrixView{}, fmt.Errorf("exposure of %s: %w", name, store.ErrNotFound)
	}
	e, err := zv.Exposure(ctx, name)
	if err != nil {
		return matrixView{}, err
	}
	v := matrixView{Exposure: e}
	if err := json.Unmarshal([]byte(e.Matrix), &v.Matrix); err != nil {
		return v, fmt.Errorf("exposure of %s: %w", name, err)
	}
	return v, nil
}

func (s *Server) exposurePage(w http.ResponseWriter, r *http.Request, u store.User) {
	name := r.URL.Query().Get("target")
	v, err := s.exposure(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "exposure", web.Page{Title: "Exposure of " + name, Nav: "zones", Data: v})
}

// createAgent makes an agent's credentials (admin); the secret is shown
// once with the command that runs the agent.
func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, u store.User) {
	if s.zones == nil {
		s.renderZones(w, r, http.StatusBadRequest, nil, "", "The inventory has no zones.")
		return
	}
	na := coord.NewAgent{Name: strings.TrimSpace(r.PostFormValue("name")), Zone: r.PostFormValue("zone"), Kind: r.PostFormValue("kind"),
		PublicKey: strings.TrimSpace(r.PostFormValue("public_key")), By: u.Username, Addr: clientIP(r)}
	secret, err := s.zones.co.CreateAgent(r.Context(), na)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, store.ErrExists) {
			status = http.StatusConflict
		}
		s.renderZones(w, r, status, nil, "", err.Error())
		return
	}
	s.renderZones(w, r, http.StatusOK, s.agentCommand(na, secret), "Credentials created for agent "+na.Name+".", "")
}

// agentCommand is how to run an agent with new credentials.
func (s *Server) agentCommand(na coord.NewAgent, secret string) *newAgentView {
	url := "tls://" + s.cfg.NATS.Listen
	if s.cfg.NATS.External() {
		url = s.cfg.NATS.URL
	}
	v := &newAgentView{Name: na.Name, Zone: na.Zone, Kind: na.Kind, Secret: secret, CA: s.CAFile()}
	cred := "--password-file " + na.Name + ".password"
	if na.Kind == coord.KindNKey {
		cred = "--nkey " + na.Name + ".nk"
	}
	ca := ""
	if v.CA != "" {
		ca = " --ca ca.pem"
	}
	v.Command = fmt.Sprintf("rampart agent --zone %s --name %s --server %s %s%s", na.Zone, na.Name, url, cred, ca)
	return v
}

func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request, u store.User) {
	if s.zones == nil {
		s.renderZones(w, r, http.StatusBadRequest, nil, "", "The inventory has no zones.")
		return
	}
	name := r.PostFormValue("name")
	if err := s.zones.co.RevokeAgent(r.Context(), name, u.Username, clientIP(r)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.renderZones(w, r, http.StatusNotFound, nil, "", "No such agent (or already revoked).")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.renderZones(w, r, http.StatusOK, nil, "Agent "+name+" revoked: its connection is closed and its results are refused from now on.", "")
}

// natsConf is the authorization block for an external nats-server (admin).
func (s *Server) natsConf(w http.ResponseWriter, r *http.Request, u store.User) {
	if s.zones == nil {
		http.NotFound(w, r)
		return
	}
	creds, err := s.zones.co.Credentials(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "# nats-server authorization for rampart's agents, %s\n# replace the coordinator's password with the one in nats.password_file\n%s",
		s.now().UTC().Format(time.RFC3339), bus.ConfigBlock("rampart-server", "REPLACE-ME", creds))
}

func (s *Server) apiZones(w http.ResponseWriter, r *http.Request) {
	v, err := s.zonesData(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiExposure(w http.ResponseWriter, r *http.Request) {
	v, err := s.exposure(r.Context(), r.URL.Query().Get("target"))
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"target": v.Exposure.Target, "round": v.Exposure.Round, "judged_at": v.Exposure.JudgedAt,
		"violations": v.Exposure.Violations, "mismatches": v.Exposure.Mismatches, "matrix": v.Matrix})
}

func (s *Server) apiCreateAgent(w http.ResponseWriter, r *http.Request) {
	if s.zones == nil {
		writeJSONError(w, http.StatusBadRequest, "the inventory has no zones")
		return
	}
	var req struct {
		Name      string `json:"name"`
		Zone      string `json:"zone"`
		Kind      string `json:"kind"`
		PublicKey string `json:"public_key"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "want a JSON body {name, zone, kind, public_key}")
		return
	}
	p, _ := principalOf(r)
	na := coord.NewAgent{Name: req.Name, Zone: req.Zone, Kind: req.Kind, PublicKey: req.PublicKey, By: p.Actor(), Addr: clientIP(r)}
	secret, err := s.zones.co.CreateAgent(r.Context(), na)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, store.ErrExists) {
			status = http.StatusConflict
		}
		writeJSONError(w, status, err.Error())
		return
	}
	v := s.agentCommand(na, secret)
	writeJSON(w, http.StatusCreated, map[string]string{"name": v.Name, "zone": v.Zone, "kind": v.Kind, "secret": v.Secret, "command": v.Command})
}

func (s *Server) apiRevokeAgent(w http.ResponseWriter, r *http.Request) {
	if s.zones == nil {
		writeJSONError(w, http.StatusBadRequest, "the inventory has no zones")
		return
	}
	p, _ := principalOf(r)
	if err := s.zones.co.RevokeAgent(r.Context(), r.URL.Query().Get("name"), p.Actor(), clientIP(r)); err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"revoked": r.URL.Query().Get("name")})
}
