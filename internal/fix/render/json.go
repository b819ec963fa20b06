package render

import (
	"encoding/json"
	"io"
	"path"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix"
)

// JSONSchemaVersion versions the JSON form of a plan.
const JSONSchemaVersion = "1.0.0"

type jsonPlan struct {
	SchemaVersion string         `json:"schemaVersion"`
	Applied       bool           `json:"applied"`
	Stamp         string         `json:"backupStamp,omitempty"`
	Results       []fix.Result   `json:"results"`
	Notes         []fix.Note     `json:"notes,omitempty"`
	Changes       []jsonChange   `json:"changes"`
	Files         []jsonFile     `json:"files"`
	Validations   []string       `json:"validations,omitempty"`
	Counts        map[string]int `json:"counts"`
}

// jsonChange is one edit: the rule it fixes, where, and the lines before
// and after.
type jsonChange struct {
	Rules    []string `json:"rules"`
	Target   string   `json:"target"`
	File     string   `json:"file"`
	What     string   `json:"what"`
	OldLines [2]int   `json:"old_lines"`
	NewLines [2]int   `json:"new_lines"`
	Before   string   `json:"before"`
	After    string   `json:"after"`
	// Todo is what the operator must still do for these rules.
	Todo []string `json:"todo,omitempty"`
}

type jsonFile struct {
	Target string     `json:"target"`
	Path   string     `json:"path"`
	Action fix.Action `json:"action"`
	Binary bool       `json:"binary,omitempty"`
	Mode   string     `json:"mode"`
	// ModeBefore is an existing file's mode now; ReadOnly says it has no
	// write permission, so --apply refuses the run until it has.
	ModeBefore string   `json:"mode_before,omitempty"`
	ReadOnly   bool     `json:"read_only,omitempty"`
	Hash       string   `json:"sha256_before,omitempty"`
	Rules      []string `json:"rules"`
	Summary    string   `json:"summary,omitempty"`
	// Content is a new text file's content (a binary file's is not shown).
	Content string `json:"content,omitempty"`
}

// JSON writes the plan as one JSON document.
func JSON(w io.Writer, p *fix.Plan, o Options) error {
	out := jsonPlan{
		SchemaVersion: JSONSchemaVersion,
		Applied:       o.Applied,
		Stamp:         o.Stamp,
		Results:       p.Results,
		Notes:         p.Notes,
		Changes:       []jsonChange{},
		Files:         []jsonFile{},
		Validations:   p.Validations,
		Counts: map[string]int{
			string(fix.Fixed): p.Count(fix.Fixed), string(fix.NeedsInput): p.Count(fix.NeedsInput),
			string(fix.Manual): p.Count(fix.Manual), string(fix.Failed): p.Count(fix.Failed),
		},
	}
	if out.Results == nil {
		out.Results = []fix.Result{}
	}
	todo := map[string][]string{}
	for _, r := range p.Results {
		todo[r.Target+"\x00"+r.Rule] = r.Todo
	}
	readOnly := map[*fix.Change]bool{}
	for _, c := range fix.ReadOnly(p.Changes) {
		readOnly[c] = true
	}
	for _, c := range p.Changes {
		f := jsonFile{Target: c.Target, Path: path.Join(c.Root, c.Path), Action: c.Action, Binary: c.Binary,
			Mode: modeString(c.Mode), Hash: c.Hash, Rules: c.Rules, Summary: c.Summary, ReadOnly: readOnly[c] && !o.Applied}
		if c.ModeBefore != 0 {
			f.ModeBefore = modeString(c.ModeBefore)
		}
		if c.Action == fix.Create && !c.Binary {
			f.Content = string(c.After)
		}
		out.Files = append(out.Files, f)
		for _, e := range c.Edits {
			rules := strings.Split(e.Rule, ",")
			jc := jsonChange{Rules: rules, Target: c.Target, File: path.Join(c.Root, c.Path), What: e.What,
				OldLines: [2]int{e.OldFirst, e.OldLast}, NewLines: [2]int{e.NewFirst, e.NewLast}, Before: e.Before, After: e.After}
			for _, r := range rules {
				for _, t := range todo[c.Target+"\x00"+r] {
					if !contains(jc.Todo, t) {
						jc.Todo = append(jc.Todo, t)
					}
				}
			}
			out.Changes = append(out.Changes, jc)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func modeString(m uint32) string {
	const digits = "01234567"
	b := []byte{'0', '0', '0', '0'}
	for i := 3; i >= 0; i-- {
		b[i] = digits[m&7]
		m >>= 3
	}
	return string(b)
}
