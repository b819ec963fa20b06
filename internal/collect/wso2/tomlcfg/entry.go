// Package tomlcfg resolves a WSO2 product's effective configuration the way
// the product's config mapper does at start-up: the user's deployment.toml,
// values inferred from it (infer.json), the shipped defaults (default.json),
// key renames (key-mappings.json) and $ref{} references, keeping for every
// value the file and line it came from. It reads bytes it is given; it opens
// no files.
package tomlcfg

import (
	"fmt"
	"strconv"
)

// Layer says which input a value came from. A higher layer wins.
type Layer int

// Documented is a product default the product's documentation (and its
// complete packs) give, used only when the files at hand lack the default
// (a source reconstruction, a bare deployment.toml): below every file.
const Documented Layer = -1

const (
	// Default is the product's shipped default.json.
	Default Layer = iota
	// Inferred is a value infer.json derives from a user value.
	Inferred
	// User is a line of deployment.toml.
	User
)

func (l Layer) String() string {
	switch l {
	case Documented:
		return "documented"
	case Default:
		return "default"
	case Inferred:
		return "inferred"
	case User:
		return "user"
	}
	return "layer(" + strconv.Itoa(int(l)) + ")"
}

// Entry is one flat configuration key and its value as written, with where
// it was written. Values are string, bool, int64, float64, []any or
// map[string]any (array-of-tables elements and JSON objects).
type Entry struct {
	Key   string
	Value any
	File  string
	Line  int
	Layer Layer
	// From explains a value the user did not write under this key: the
	// user key it was inferred from or renamed from.
	From string
}

// Where renders the entry's place for humans: file:line, or the file.
func (e Entry) Where() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line)
	}
	return e.File
}

// String renders a scalar value the way the product's templates print it
// (Jinja2 prints Python booleans as True/False, but the config mapper
// lower-cases them; we use lower case). Lists are comma-joined.
func String(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		s := ""
		for i, e := range x {
			if i > 0 {
				s += ","
			}
			s += String(e)
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}
