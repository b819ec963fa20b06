// Package schema ships the JSON Schema of rampart's JSON report, so tests
// and users can validate reports against the version they were written in.
package schema

import _ "embed"

// Report is schema/report.schema.json.
//
//go:embed report.schema.json
var Report []byte
