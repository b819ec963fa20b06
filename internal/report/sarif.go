package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// SARIF writes SARIF 2.1.0 as GitHub code scanning accepts it: the rules
// with their help text under tool.driver.rules, one result per failing or
// waived finding with its level, file:line locations where the evidence
// has them, and the finding's fingerprint as a partial fingerprint.
type SARIF struct{}

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult            `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifHelp      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []sarifSuppress   `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical     `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations,omitempty"`
}

// sarifLogicalLoc names what is not a file: an endpoint by host:port, a
// host, a node.
type sarifLogicalLoc struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppress struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// sarifLevel maps a severity to a SARIF level, and to GitHub's numeric
// security-severity (which decides how GitHub labels the alert).
func sarifLevel(s finding.Severity) (level, score string) {
	switch s {
	case finding.Critical:
		return "error", "9.5"
	case finding.High:
		return "error", "8.0"
	case finding.Medium:
		return "warning", "5.5"
	case finding.Low:
		return "note", "3.0"
	case finding.Info:
		return "note", "1.0"
	}
	return "", ""
}

// Render implements Renderer.
func (SARIF) Render(w io.Writer, r *finding.Report) error {
	driver := sarifDriver{Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: r.Tool.URI, Rules: []sarifRule{}}
	index := map[string]int{}
	// Rules: every rule that appears in the report, sorted by ID.
	seen := map[string]finding.Finding{}
	for _, f := range r.Findings {
		if _, ok := seen[f.RuleID]; !ok {
			seen[f.RuleID] = f
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := seen[id]
		level, score := sarifLevel(f.Severity)
		rule := sarifRule{
			ID:                   id,
			Name:                 ruleName(f.Title),
			ShortDescription:     sarifText{Text: f.Title},
			FullDescription:      sarifText{Text: f.Title},
			Help:                 sarifHelp{Text: f.Remediation, Markdown: helpMarkdown(f)},
			DefaultConfiguration: sarifConfig{Level: level},
			Properties:           sarifRuleProps{Tags: []string{"security", f.Domain}, SecuritySeverity: score},
		}
		if len(f.References) > 0 {
			rule.HelpURI = f.References[0]
		}
		index[id] = len(driver.Rules)
		driver.Rules = append(driver.Rules, rule)
	}
	loc := newSarifLocator(r)
	results := []sarifResult{}
	for _, f := range r.Findings {
		if f.Status != finding.Fail && f.Status != finding.Waived {
			continue
		}
		res := sarifResult{
			RuleID:              f.RuleID,
			RuleIndex:           index[f.RuleID],
			Level:               sarifLevelOnly(f.Severity),
			Message:             sarifText{Text: resultMessage(f)},
			Locations:           capLocations(loc.locations(f)),
			PartialFingerprints: map[string]string{"rampartFingerprint/v1": f.Fingerprint},
		}
		if f.Status == finding.Waived && f.Exception != nil {
			res.Suppressions = []sarifSuppress{{Kind: "external", Justification: f.Exception.Reason + " (" + f.Exception.By + ", until " + f.Exception.Expires + ")"}}
		}
		results = append(results, res)
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: results, OriginalURIBaseIDs: loc.bases}
	log := sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// ruleName makes a PascalCase identifier from a title, as SARIF's
// reportingDescriptor.name suggests.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func helpMarkdown(f finding.Finding) string {
	var b strings.Builder
	b.WriteString("**" + f.RuleID + ": " + f.Title + "**\n\n" + f.Remediation)
	for _, ref := range f.References {
		b.WriteString("\n- " + ref)
	}
	return b.String()
}

func resultMessage(f finding.Finding) string {
	msg := f.Message
	if msg == "" {
		msg = f.Title
	}
	msg = f.Target + ": " + msg
	if n := fileLocations(f); n > maxSarifLocations {
		msg += fmt.Sprintf(" (%d places; the first %d are listed)", n, maxSarifLocations)
	}
	return msg
}

// fileLocations counts the distinct file locations of a finding's evidence.
func fileLocations(f finding.Finding) int {
	seen := map[string]bool{}
	for _, e := range f.Evidence {
		if e.Source != "" && looksLikeFile(e.Source) {
			seen[e.Location()] = true
		}
	}
	return len(seen)
}

// Where SARIF results point:
//
//   - a file of a scanned directory: its path relative to the directory,
//     with uriBaseId %SRCROOT% (the first directory target; SRCROOT2, … for
//     more) and the directory's file:// URI in run.originalUriBaseIds, and
//     the line as a region wherever the facts have one;
//   - a file of a host (/etc/ssh/sshd_config): its path relative to the
//     root file system, with uriBaseId ROOTFS (file:///);
//   - no file (an endpoint, a node, a host or directory as a whole): a
//     logical location named by the target's identity (host:port), and,
//     because code scanning shows only results with a physical location,
//     the artifact <kind>/<identity> ("endpoint/127.0.0.1:8443"), which is
//     no file but a stable, readable name.

const (
	srcRoot = "%SRCROOT%"
	rootFS  = "ROOTFS"
	// maxSarifLocations is how many locations code scanning shows of one
	// result; the message says how many more there are.
	maxSarifLocations = 10
)

type sarifLocator struct {
	targets map[string]finding.TargetInfo
	// baseOf maps a directory target's name to its uriBaseId.
	baseOf map[string]string
	bases  map[string]sarifArtifact
}

func newSarifLocator(r *finding.Report) *sarifLocator {
	l := &sarifLocator{targets: map[string]finding.TargetInfo{}, baseOf: map[string]string{}, bases: map[string]sarifArtifact{}}
	for _, t := range r.Targets {
		l.targets[t.Name] = t
		if t.Kind != "directory" {
			continue
		}
		dir := t.Dir
		if dir == "" {
			dir = t.ID // a report from before targets kept their directory
		}
		if dir == "" {
			dir = t.Name
		}
		if !strings.HasPrefix(dir, "/") {
			continue // a report from before targets had an absolute identity
		}
		id := srcRoot
		if n := len(l.baseOf); n > 0 {
			id = fmt.Sprintf("SRCROOT%d", n+1)
		}
		l.baseOf[t.Name] = id
		l.bases[id] = sarifArtifact{URI: dirURI(dir)}
	}
	return l
}

// locations gives a result's locations: the files and lines of its
// evidence, or else the target itself.
func (l *sarifLocator) locations(f finding.Finding) []sarifLocation {
	var out []sarifLocation
	seen := map[string]bool{}
	for _, e := range f.Evidence {
		if e.Source == "" || !looksLikeFile(e.Source) {
			continue
		}
		key := e.Location()
		if seen[key] {
			continue
		}
		seen[key] = true
		art := l.artifact(f.Target, e.Source)
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: art}}
		if e.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line}
		}
		out = append(out, loc)
	}
	if len(out) == 0 {
		return []sarifLocation{l.targetLocation(f.Target)}
	}
	return out
}

// artifact locates a file named in evidence.
func (l *sarifLocator) artifact(target, source string) sarifArtifact {
	p := path.Clean(strings.ReplaceAll(source, "\\", "/"))
	if base, ok := l.baseOf[target]; ok && !strings.HasPrefix(p, "/") {
		return sarifArtifact{URI: relURI(p), URIBaseID: base}
	}
	if strings.HasPrefix(p, "/") {
		if _, ok := l.bases[rootFS]; !ok {
			l.bases[rootFS] = sarifArtifact{URI: "file:///"}
		}
		return sarifArtifact{URI: relURI(strings.TrimPrefix(p, "/")), URIBaseID: rootFS}
	}
	return sarifArtifact{URI: relURI(p)}
}

// targetLocation locates a result that names no file: the target as a
// logical location, and a stable pseudo-artifact for code scanning.
func (l *sarifLocator) targetLocation(name string) sarifLocation {
	t, ok := l.targets[name]
	id, kind := name, ""
	if ok {
		if t.ID != "" {
			id = t.ID
		}
		kind = t.Kind
	}
	if base, isDir := l.baseOf[name]; isDir {
		return sarifLocation{
			PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: ".", URIBaseID: base}},
			LogicalLocations: []sarifLogicalLoc{{Name: path.Base(id), FullyQualifiedName: id, Kind: "module"}},
		}
	}
	if kind == "" {
		kind = "target"
	}
	return sarifLocation{
		PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: kind + "/" + url.PathEscape(id)}},
		LogicalLocations: []sarifLogicalLoc{{Name: id, FullyQualifiedName: id, Kind: "resource"}},
	}
}

func looksLikeFile(s string) bool {
	return !strings.Contains(s, "://") && (strings.Contains(s, "/") || strings.Contains(s, "."))
}

// relURI turns a relative path into a relative URI reference. A first
// segment with a colon would read as a scheme, so it gets "./" before it.
func relURI(p string) string {
	u := (&url.URL{Path: p}).EscapedPath()
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		u = "./" + u
	}
	return u
}

// dirURI is a directory's file:// URI, ending in a slash as a base URI must.
func dirURI(dir string) string {
	p := path.Clean(strings.ReplaceAll(dir, "\\", "/"))
	u := (&url.URL{Scheme: "file", Path: p}).String()
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

func capLocations(ls []sarifLocation) []sarifLocation {
	if len(ls) > maxSarifLocations {
		return ls[:maxSarifLocations]
	}
	return ls
}

func sarifLevelOnly(s finding.Severity) string {
	level, _ := sarifLevel(s)
	return level
}
