package zone

import (
	"sort"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// Result is what one zone contributed to a target's judgement: its
// observation and findings, or why it has none.
type Result struct {
	Zone target.Zone
	// Agent produced the result; At is when the scan finished.
	Agent string
	At    time.Time
	// Obs is nil when the zone has no result; Missing then says why ("no
	// agent in zone dmz since 2026-05-01 10:00 UTC").
	Obs     *Observation
	Missing string
	// Findings are the zone's findings on the target and on the targets
	// it led to (the services found on a node), judged from that zone.
	Findings []finding.Finding
}

// Matrix is a target's exposure matrix: every port and path with what
// each zone should and did see.
type Matrix struct {
	Target string       `json:"target"`
	Offset int          `json:"offset"`
	Zones  []MatrixZone `json:"zones"`
	Rows   []Row        `json:"rows"`
	// Mismatches counts cells whose observation contradicts the
	// expectation (Violations: reachable where it must not be).
	Mismatches int `json:"mismatches"`
	Violations int `json:"violations"`
}

// MatrixZone is a column of the matrix: a zone and the result behind it.
type MatrixZone struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Agent   string    `json:"agent,omitempty"`
	Source  string    `json:"source,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Missing string    `json:"missing,omitempty"`
}

// Row is one port or path.
type Row struct {
	Item Item   `json:"item"`
	Rule string `json:"rule"`
	// Declared says where the expectation comes from: "inventory",
	// "profile default", "expected_ports", or "" for a port or path that
	// nothing declares but a zone reached.
	Declared string `json:"declared,omitempty"`
	Service  string `json:"service,omitempty"`
	Cells    []Cell `json:"cells"`
}

// Cell is one zone's expectation and observation of a row's item.
type Cell struct {
	Expect Expect `json:"expect"`
	Seen   Seen   `json:"seen"`
	Detail string `json:"detail,omitempty"`
	// Mismatch is "violation" (reachable where it must not be) or
	// "cut_off" (blocked where it must be reachable).
	Mismatch string `json:"mismatch,omitempty"`
}

// Mismatch kinds.
const (
	Violation = "violation"
	CutOff    = "cut_off"
)

// Build makes a target's exposure matrix from the zones' results. offset
// is taken from the zones' observations (the most common WSO2 offset
// seen), so a product moved to offset 1 is expected on 9444.
func Build(t target.Target, results []Result, cat Catalog) Matrix {
	m := Matrix{Target: t.Name, Offset: offsetOf(results), Zones: []MatrixZone{}, Rows: []Row{}}
	for _, r := range results {
		mz := MatrixZone{Name: r.Zone.Name, Role: r.Zone.Role, Agent: r.Agent, At: r.At, Missing: r.Missing}
		if r.Obs != nil {
			mz.Source = r.Obs.Source
		}
		m.Zones = append(m.Zones, mz)
	}
	webhook := t.Profile == "webhook-relay"
	exps := Expectations(t, m.Offset)
	covered := map[string]bool{}
	for _, e := range exps {
		covered[e.Item.Key()] = true
		decl := "inventory"
		switch {
		case e.Default:
			decl = "profile default"
		case len(e.Reach.From) == 0 && len(e.Reach.May) == 1 && e.Reach.May[0] == ReachAny && !declaredReach(t, e.Item):
			decl = "expected_ports"
		}
		row := Row{Item: e.Item, Declared: decl, Service: serviceOf(results, e.Item.Port)}
		row.Rule = cat.fallback(RuleFor(e.Item, row.Service, m.Offset, webhook && e.Rule == "NET-004"), t.Profile)
		for _, r := range results {
			row.Cells = append(row.Cells, cell(e, r))
		}
		m.Rows = append(m.Rows, row)
	}
	// Ports and admin paths a zone reached that nothing declares.
	declares := Declares(t)
	extra := map[string]Item{}
	for _, r := range results {
		if r.Obs == nil {
			continue
		}
		for _, p := range r.Obs.Open {
			it := Item{Port: p.Port}
			if !covered[it.Key()] {
				extra[it.Key()] = it
			}
		}
		for _, p := range r.Obs.Paths {
			if !p.Reachable || !IsAdminPath(p.Path) {
				continue
			}
			it := Item{Port: p.Port, Path: adminRoot(p.Path)}
			if !covered[it.Key()] {
				extra[it.Key()] = it
			}
		}
	}
	for _, it := range extra {
		row := Row{Item: it, Service: serviceOf(results, it.Port)}
		row.Rule = cat.fallback(RuleFor(it, row.Service, m.Offset, false), t.Profile)
		for _, r := range results {
			e := Expectation{Item: it, Rule: row.Rule}
			switch {
			case it.Path != "":
				// Admin paths with no declaration: kept from the DMZ.
				e.Reach = target.Reach{Port: it.Port, Path: it.Path, May: []string{ReachAny}}
				if r.Zone.Role == "dmz" {
					e.Reach.May = nil
				}
			case !declares:
				e.Reach = target.Reach{Port: it.Port, May: []string{ReachAny}}
			}
			c := cell(e, r)
			if !declares && it.Path == "" {
				c.Expect = Undeclared
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	sort.SliceStable(m.Rows, func(i, j int) bool { return m.Rows[i].Item.less(m.Rows[j].Item) })
	for _, row := range m.Rows {
		for _, c := range row.Cells {
			if c.Mismatch != "" {
				m.Mismatches++
			}
			if c.Mismatch == Violation {
				m.Violations++
			}
		}
	}
	return m
}

// declaredReach reports whether the inventory's reach list names the item.
func declaredReach(t target.Target, it Item) bool {
	for _, r := range t.Decl.Reach {
		if r.Port == it.Port && r.Path == it.Path {
			return true
		}
	}
	return false
}

// adminRoot is the first segment of an admin path ("/carbon" for
// "/carbon/admin/login.jsp"), so one row stands for a console.
func adminRoot(p string) string {
	for _, a := range adminPrefixes {
		if under(p, a) {
			return a
		}
	}
	return p
}

func cell(e Expectation, r Result) Cell {
	if r.Obs == nil {
		v := Vantage{Zone: r.Zone}
		return Cell{Expect: e.For(v), Seen: NoResult, Detail: r.Missing}
	}
	v := Vantage{Zone: r.Zone, ClusterMember: r.Obs.ClusterMember, AllowedSource: r.Obs.AllowedSource, SourceObserved: r.Obs.Source != ""}
	c := Cell{Expect: e.For(v)}
	if e.Item.Path == "" {
		var svc string
		c.Seen, svc = r.Obs.Port(e.Item.Port)
		switch {
		case c.Seen == Reachable && svc != "":
			c.Detail = svc
		case c.Seen == Unknown:
			c.Detail = "not scanned"
		}
	} else {
		c.Seen, c.Detail = r.Obs.Path(e.Item.Port, e.Item.Path)
	}
	switch {
	case c.Expect == MustNot && c.Seen == Reachable:
		c.Mismatch = Violation
	case c.Expect == Must && c.Seen == Blocked:
		c.Mismatch = CutOff
	}
	return c
}

// serviceOf is the service any zone found on a port.
func serviceOf(results []Result, port int) string {
	for _, r := range results {
		if r.Obs == nil {
			continue
		}
		for _, p := range r.Obs.Open {
			if p.Port == port && p.Service != "" && p.Service != "unknown" {
				return p.Service
			}
		}
	}
	return ""
}

// offsetOf is the WSO2 port offset most zones saw (the smallest on a tie).
func offsetOf(results []Result) int {
	count := map[int]int{}
	for _, r := range results {
		if r.Obs != nil && r.Obs.Offset != 0 {
			count[r.Obs.Offset]++
		}
	}
	best, n := 0, 0
	for off, c := range count {
		if c > n || c == n && off < best {
			best, n = off, c
		}
	}
	return best
}
