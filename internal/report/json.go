package report

import (
	"encoding/json"
	"io"

	"github.com/rampart-sec/rampart/internal/finding"
)

// JSON writes the report as indented JSON, following
// schema/report.schema.json (schemaVersion says which version).
type JSON struct{}

// Render implements Renderer.
func (JSON) Render(w io.Writer, r *finding.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
