package coord

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/target"
)

// agentState is what the coordinator knows of an agent.
type agentState struct {
	rec      store.ZoneAgent
	lastSeen time.Time // last heartbeat (from the store at start)
	saved    time.Time // when lastSeen was last written to the store
	hb       bus.Heartbeat
	stopping bool
}

func (c *Coordinator) loadAgents(ctx context.Context) error {
	recs, err := c.cfg.Store.ZoneAgents(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		st := &agentState{rec: r}
		if prev, ok := c.agents[r.Name]; ok {
			st.lastSeen, st.saved, st.hb, st.stopping = prev.lastSeen, prev.saved, prev.hb, prev.stopping
		} else if r.LastSeen != nil {
			st.lastSeen, st.saved = *r.LastSeen, *r.LastSeen
		}
		c.agents[r.Name] = st
	}
	return nil
}

// pushCredentials gives the NATS server the agents allowed in.
func (c *Coordinator) pushCredentials(ctx context.Context) error {
	if c.cfg.Credentials == nil {
		return nil
	}
	creds, err := c.Credentials(ctx)
	if err != nil {
		return err
	}
	return c.cfg.Credentials(creds)
}

// Credentials returns the NATS credentials of every agent not revoked.
func (c *Coordinator) Credentials(ctx context.Context) ([]bus.Credential, error) {
	return AgentCredentials(ctx, c.cfg.Store)
}

// AgentLister lists the agents' records.
type AgentLister interface {
	ZoneAgents(ctx context.Context) ([]store.ZoneAgent, error)
}

// AgentCredentials returns the NATS credentials of every agent not
// revoked, as the store keeps them: what an embedded NATS server starts
// with, so that agents reconnecting to a restarted server are let in at
// once.
func AgentCredentials(ctx context.Context, st AgentLister) ([]bus.Credential, error) {
	recs, err := st.ZoneAgents(ctx)
	if err != nil {
		return nil, fmt.Errorf("zone agents: %w", err)
	}
	var out []bus.Credential
	for _, r := range recs {
		if r.RevokedAt != nil {
			continue
		}
		cr := bus.Credential{Agent: r.Name, Zone: r.Zone}
		if r.Kind == KindNKey {
			cr.NKey = r.Secret
		} else {
			cr.PasswordHash = r.Secret
		}
		out = append(out, cr)
	}
	return out, nil
}

// Credential kinds.
const (
	KindPassword = "password"
	KindNKey     = "nkey"
)

// NewAgent is an admin's request for an agent's credentials.
type NewAgent struct {
	Name, Zone string
	// Kind is password (a generated password) or nkey (a generated seed,
	// or PublicKey when the agent made its own key pair).
	Kind      string
	PublicKey string
	By, Addr  string
}

// CreateAgent creates an agent's credentials and lets it into NATS. The
// returned secret (a password, or an nkey seed) is shown once: only its
// bcrypt hash, or the public key, is kept.
func (c *Coordinator) CreateAgent(ctx context.Context, na NewAgent) (secret string, err error) {
	if !target.ValidZoneName(na.Name) {
		return "", fmt.Errorf("agent name %q: lower-case letters, digits, - and _ (at most 63)", na.Name)
	}
	if !c.cfg.Zones.Has(na.Zone) {
		return "", fmt.Errorf("zone %q is not in the inventory", na.Zone)
	}
	rec := store.ZoneAgent{Name: na.Name, Zone: na.Zone, Kind: na.Kind, CreatedAt: c.cfg.Now().UTC(), CreatedBy: na.By}
	switch na.Kind {
	case KindPassword:
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		secret = base64.RawURLEncoding.EncodeToString(b)
		h, err := bcrypt.GenerateFromPassword([]byte(secret), c.cfg.BcryptCost)
		if err != nil {
			return "", err
		}
		rec.Secret = string(h)
	case KindNKey:
		if na.PublicKey != "" {
			if !nkeys.IsValidPublicUserKey(na.PublicKey) {
				return "", errors.New("public key: not an nkey user public key (U...)")
			}
			rec.Secret = na.PublicKey
			break
		}
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", err
		}
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		rec.Secret, secret = pub, string(seed)
	default:
		return "", fmt.Errorf("kind %q: want password or nkey", na.Kind)
	}
	audit := store.Audit{At: rec.CreatedAt, Actor: na.By, Action: "agent.create", Subject: na.Name, Detail: "zone " + na.Zone + ", " + na.Kind, Addr: na.Addr}
	if err := c.cfg.Store.CreateZoneAgent(ctx, rec, audit); err != nil {
		return "", err
	}
	if err := c.loadAgents(ctx); err != nil {
		return "", err
	}
	if err := c.pushCredentials(ctx); err != nil {
		return "", err
	}
	c.log.Info("agent credentials created", "agent", na.Name, "zone", na.Zone, "kind", na.Kind, "by", na.By)
	return secret, nil
}

// RevokeAgent revokes an agent's credentials: the NATS server closes its
// connection, and results it publishes from then on are refused.
func (c *Coordinator) RevokeAgent(ctx context.Context, name, by, addr string) error {
	now := c.cfg.Now().UTC()
	if err := c.cfg.Store.RevokeZoneAgent(ctx, name, now, by, store.Audit{At: now, Actor: by, Action: "agent.revoke", Subject: name, Addr: addr}); err != nil {
		return err
	}
	if err := c.loadAgents(ctx); err != nil {
		return err
	}
	c.log.Info("agent credentials revoked", "agent", name, "by", by)
	return c.pushCredentials(ctx)
}

// onHeartbeat records an agent's heartbeat. The subject names the agent
// (NATS lets an agent publish only under its own name).
func (c *Coordinator) onHeartbeat(m *nats.Msg) {
	z, name, ok := bus.SubjectIdentity(m.Subject)
	if !ok {
		return
	}
	hb, err := bus.DecodeHeartbeat(m.Data)
	if err != nil || hb.Agent != name || hb.Zone != z {
		c.log.Warn("bad heartbeat ignored", "subject", m.Subject, "err", err)
		return
	}
	now := c.cfg.Now().UTC()
	c.mu.Lock()
	st, ok := c.agents[name]
	if !ok || st.rec.RevokedAt != nil || st.rec.Zone != z {
		c.mu.Unlock()
		return
	}
	first := st.hb.Started != hb.Started || st.hb.Version != hb.Version
	st.lastSeen, st.hb, st.stopping = now, *hb, hb.Stopping
	persist := first || hb.Stopping || now.Sub(st.saved) > 30*time.Second
	if persist {
		st.saved = now
	}
	c.mu.Unlock()
	if persist {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.cfg.Store.TouchZoneAgent(ctx, name, now, hb.Version, hb.Started); err != nil {
			c.log.Warn("record heartbeat", "agent", name, "err", err)
		}
	}
	switch {
	case hb.Stopping:
		c.log.Info("agent stopping", "agent", name, "zone", z)
	case first:
		c.log.Info("agent connected", "agent", name, "zone", z, "version", hb.Version, "concurrency", hb.Concurrency)
	}
	if first || hb.Stopping {
		c.Kick() // a zone's first or last agent changes what rounds wait for
	}
	if c.cfg.Heard != nil {
		c.cfg.Heard(name)
	}
}

// onFailure keeps the last error an agent reported for a job.
func (c *Coordinator) onFailure(m *nats.Msg) {
	z, name, ok := bus.SubjectIdentity(m.Subject)
	if !ok {
		return
	}
	f, err := bus.DecodeFailure(m.Data)
	if err != nil || f.Agent != name || f.Zone != z {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) > 10000 {
		for k := range c.failures {
			delete(c.failures, k)
			break
		}
	}
	c.failures[f.Job] = fmt.Sprintf("agent %s, delivery %d: %s", name, f.Delivery, f.Error)
}

// agentOK reports whether an agent may have published a message at a
// time: known, of that zone, and not revoked before then.
func (c *Coordinator) agentOK(name, z string, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.agents[name]
	if !ok || st.rec.Zone != z {
		return false
	}
	return st.rec.RevokedAt == nil || at.Before(*st.rec.RevokedAt)
}

// zoneLive reports whether a zone has a live agent, and when one of its
// agents was last heard from.
func (c *Coordinator) zoneLive(z string) (bool, time.Time) {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	live := false
	for _, st := range c.agents {
		if st.rec.Zone != z || st.rec.RevokedAt != nil {
			continue
		}
		if st.lastSeen.After(last) {
			last = st.lastSeen
		}
		if !st.stopping && !st.lastSeen.IsZero() && now.Sub(st.lastSeen) < c.cfg.AgentTimeout {
			live = true
		}
	}
	return live, last
}

// AgentView is an agent as the dashboard shows it.
type AgentView struct {
	store.ZoneAgent
	Live        bool      `json:"live"`
	LastSeen    time.Time `json:"last_heartbeat,omitzero"`
	Busy        int       `json:"busy"`
	Concurrency int       `json:"concurrency"`
	Done        int64     `json:"done"`
	Failed      int64     `json:"failed"`
}

// Agents lists every agent with its last heartbeat.
func (c *Coordinator) Agents() []AgentView {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AgentView, 0, len(c.agents))
	for _, st := range c.agents {
		v := AgentView{ZoneAgent: st.rec, LastSeen: st.lastSeen, Busy: st.hb.Busy, Concurrency: st.hb.Concurrency, Done: st.hb.Done, Failed: st.hb.Failed}
		if st.hb.Version != "" {
			v.Version = st.hb.Version
		}
		v.Live = st.rec.RevokedAt == nil && !st.stopping && !st.lastSeen.IsZero() && now.Sub(st.lastSeen) < c.cfg.AgentTimeout
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Zone != out[j].Zone {
			return out[i].Zone < out[j].Zone
		}
		return out[i].Name < out[j].Name
	})
	return out
}
