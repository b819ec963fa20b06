package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// JSON writes the report as indented JSON, following
// schema/report.schema.json (schemaVersion says which version).
//
// The findings are streamed one at a time, so a fleet report of tens of
// thousands of findings never sits in memory twice (once as values, once
// as encoded bytes). The report object is written member by member from
// the fields of finding.Report and their json tags, each value by
// encoding/json, so the bytes are the same as encoding the whole report
// with an indenting json.Encoder (TestJSONStreamsSameBytes) and a field
// added to the report is written without a change here.
type JSON struct{}

var findingsType = reflect.TypeFor[[]finding.Finding]()

// Render implements Renderer.
func (JSON) Render(w io.Writer, r *finding.Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	n := 0
	for i := range t.NumField() {
		sf := t.Field(i)
		name, omit, ok, err := member(sf)
		if err != nil {
			return err
		}
		fv := v.Field(i)
		if !ok || omit(fv) {
			continue
		}
		if n == 0 {
			bw.WriteString("{\n  ")
		} else {
			bw.WriteString(",\n  ")
		}
		n++
		key, err := json.Marshal(name)
		if err != nil {
			return err
		}
		bw.Write(key)
		bw.WriteString(": ")
		if sf.Type == findingsType && r.Count() > 0 {
			err = writeFindings(bw, r)
		} else {
			err = writeValue(bw, fv.Interface(), "  ")
		}
		if err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
	}
	if n == 0 {
		bw.WriteString("{}\n")
	} else {
		bw.WriteString("\n}\n")
	}
	return bw.Flush()
}

// member reads a field's json tag as encoding/json does for the tags the
// report uses: its name, whether it is left out when empty (omitempty,
// omitzero), and whether it is written at all. Anything else is an error
// rather than output that differs from encoding/json's.
func member(sf reflect.StructField) (name string, omit func(reflect.Value) bool, ok bool, err error) {
	if sf.Anonymous {
		// encoding/json promotes an embedded struct's fields, even of an
		// unexported type.
		return "", nil, false, fmt.Errorf("report field %s: embedded fields are not written by the streaming renderer", sf.Name)
	}
	if !sf.IsExported() {
		return "", nil, false, nil
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", nil, false, nil
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = sf.Name
	}
	omit = func(reflect.Value) bool { return false }
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "":
		case "omitempty":
			omit = isEmpty
		case "omitzero":
			omit = reflect.Value.IsZero
		default:
			return "", nil, false, fmt.Errorf("report field %s: json option %q is not written by the streaming renderer", sf.Name, o)
		}
	}
	return name, omit, true, nil
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// writeFindings streams the findings array at the report's second level
// (from the report's findings or its spill), one finding encoded at a
// time into one reused buffer.
func writeFindings(bw *bufio.Writer, r *finding.Report) error {
	// Each finding is encoded compact and indented by appendIndented: the
	// same bytes as an indenting json.Encoder, at a third of its cost.
	var (
		buf      bytes.Buffer
		indented []byte
	)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	bw.WriteString("[\n")
	i := 0
	err := r.Each(func(f *finding.Finding) error {
		if i > 0 {
			bw.WriteString(",\n")
		}
		buf.Reset()
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("finding %d (%s on %s): %w", i, f.RuleID, f.Target, err)
		}
		indented = appendIndented(append(indented[:0], "    "...), bytes.TrimSuffix(buf.Bytes(), []byte("\n")), "    ", "  ")
		bw.Write(indented)
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if i > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("  ]")
	return nil
}

// writeValue writes v as indented JSON whose lines after the first begin
// with prefix, as it sits inside the report.
func writeValue(bw *bufio.Writer, v any, prefix string) error {
	var buf bytes.Buffer
	if err := newEncoder(&buf, prefix).Encode(v); err != nil {
		return err
	}
	bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

func newEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc
}
