// Package rules embeds the built-in rule files, one per domain. The rule
// engine lives in internal/rules; this package only carries the data.
package rules

import "embed"

// FS holds the built-in rule files (*.yaml).
//
//go:embed *.yaml
var FS embed.FS

// Compiled is compiled.bin: the rules of FS already read and their
// expressions already checked (internal/rules.WriteCompiled; its test
// keeps it fresh). A string, so reading it copies nothing.
//
//go:embed compiled.bin
var Compiled string
