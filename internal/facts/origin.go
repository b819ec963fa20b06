package facts

import (
	"reflect"
	"strconv"
)

// Origin says where a fact was read: a file and line under the target's
// root, a key inside it, or an endpoint. Note explains values that do not
// come from a user-edited line, such as "product default (default.json)".
type Origin struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Key      string `json:"key,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Summary is empty: an Origin shown as evidence is a place, and the place
// is already the evidence's location.
func (o Origin) Summary() string { return "" }

// IsZero reports whether o names no place at all.
func (o Origin) IsZero() bool { return o == Origin{} }

// String renders the origin as file:line, endpoint or note, for humans.
func (o Origin) String() string {
	switch {
	case o.File != "" && o.Line > 0:
		return o.File + ":" + strconv.Itoa(o.Line)
	case o.File != "":
		return o.File
	case o.Endpoint != "":
		return o.Endpoint
	default:
		return o.Note
	}
}

// OriginOf returns the Origin held by v: v itself when it is an Origin, or
// a field named Origin of that type when v is a struct (or a pointer to one).
// It is how the rule engine turns a fact a rule points at into evidence
// with a file and line, without every fact type implementing a method.
func OriginOf(v any) (Origin, bool) {
	if v == nil {
		return Origin{}, false
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return Origin{}, false
		}
		rv = rv.Elem()
	}
	if rv.Type() == reflect.TypeFor[Origin]() {
		return rv.Interface().(Origin), true
	}
	if rv.Kind() != reflect.Struct {
		return Origin{}, false
	}
	f := rv.FieldByName("Origin")
	if !f.IsValid() || f.Type() != reflect.TypeFor[Origin]() {
		return Origin{}, false
	}
	o := f.Interface().(Origin)
	return o, !o.IsZero()
}
