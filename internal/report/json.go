package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/rampart-sec/rampart/internal/finding"
)

// JSON writes the report as indented JSON, following
// schema/report.schema.json (schemaVersion says which version).
//
// The findings are streamed one at a time, so a fleet report of tens of
// thousands of findings never sits in memory twice (once as values, once
// as encoded bytes); the bytes are the same as encoding the whole report
// with an indenting json.Encoder.
type JSON struct{}

// findingsKey is the findings array of a report encoded without findings.
const findingsKey = "\n  \"findings\": []"

// Render implements Renderer.
func (JSON) Render(w io.Writer, r *finding.Report) error {
	shell := *r
	shell.Findings = []finding.Finding{}
	head, err := encodeIndented(&shell, "")
	if err != nil {
		return err
	}
	at := bytes.Index(head, []byte(findingsKey))
	if at < 0 || len(r.Findings) == 0 {
		_, err := w.Write(head)
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:at+len(findingsKey)-1]) // up to and including '['
	bw.WriteString("\n")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	for i := range r.Findings {
		buf.Reset()
		if err := enc.Encode(&r.Findings[i]); err != nil {
			return fmt.Errorf("finding %d (%s on %s): %w", i, r.Findings[i].RuleID, r.Findings[i].Target, err)
		}
		bw.WriteString("    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if i < len(r.Findings)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("  ]")
	bw.Write(head[at+len(findingsKey):])
	return bw.Flush()
}

func encodeIndented(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
