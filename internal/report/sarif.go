package report

import (
	"encoding/json"
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
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
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
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppress struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// sarifLevels maps severities to SARIF levels, and to GitHub's numeric
// security-severity (which decides how GitHub labels the alert).
var sarifLevels = map[finding.Severity]struct{ level, score string }{
	finding.Critical: {"error", "9.5"},
	finding.High:     {"error", "8.0"},
	finding.Medium:   {"warning", "5.5"},
	finding.Low:      {"note", "3.0"},
	finding.Info:     {"note", "1.0"},
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
		lv := sarifLevels[f.Severity]
		rule := sarifRule{
			ID:                   id,
			Name:                 ruleName(f.Title),
			ShortDescription:     sarifText{Text: f.Title},
			FullDescription:      sarifText{Text: f.Title},
			Help:                 sarifHelp{Text: f.Remediation, Markdown: helpMarkdown(f)},
			DefaultConfiguration: sarifConfig{Level: lv.level},
			Properties:           sarifRuleProps{Tags: []string{"security", f.Domain}, SecuritySeverity: lv.score},
		}
		if len(f.References) > 0 {
			rule.HelpURI = f.References[0]
		}
		index[id] = len(driver.Rules)
		driver.Rules = append(driver.Rules, rule)
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		if f.Status != finding.Fail && f.Status != finding.Waived {
			continue
		}
		res := sarifResult{
			RuleID:              f.RuleID,
			RuleIndex:           index[f.RuleID],
			Level:               sarifLevels[f.Severity].level,
			Message:             sarifText{Text: resultMessage(f)},
			Locations:           locations(f),
			PartialFingerprints: map[string]string{"rampartFingerprint/v1": f.Fingerprint},
		}
		if f.Status == finding.Waived && f.Exception != nil {
			res.Suppressions = []sarifSuppress{{Kind: "external", Justification: f.Exception.Reason + " (" + f.Exception.By + ", until " + f.Exception.Expires + ")"}}
		}
		results = append(results, res)
	}
	log := sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}}}
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
	return f.Target + ": " + msg
}

// locations gives a result's locations: the files and lines of its
// evidence, or else the target itself (an endpoint or directory), since
// code scanning needs at least one location.
func locations(f finding.Finding) []sarifLocation {
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
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(e.Source)}}}
		if e.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line}
		}
		out = append(out, loc)
	}
	if len(out) == 0 {
		out = append(out, sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: targetURI(f.Target)}}})
	}
	return out
}

func looksLikeFile(s string) bool {
	return !strings.Contains(s, "://") && (strings.Contains(s, "/") || strings.Contains(s, "."))
}

// fileURI turns a relative or absolute path into a URI reference.
func fileURI(p string) string {
	p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	u := url.URL{Path: strings.TrimPrefix(p, "/")}
	if strings.HasPrefix(p, "/") {
		return "file:///" + u.EscapedPath()
	}
	return u.EscapedPath()
}

// targetURI names a non-file target as a URI reference.
func targetURI(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	if strings.HasPrefix(name, "/") {
		return fileURI(name)
	}
	return url.PathEscape(name)
}
