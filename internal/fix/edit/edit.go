// Package edit splices replacements into a file's bytes and records each
// one with the lines it touched before and after, so every change of a fix
// can be shown with its rule, its place and its text. The format editors
// (TOML, properties, XML, shell) find the byte ranges; this package only
// applies them.
package edit

import (
	"bytes"
	"fmt"
	"sort"
)

// Replacement swaps the bytes [Start, End) of the original content for
// Text. Start == End inserts.
type Replacement struct {
	Start, End int
	Text       string
	// Rule is the rule ID the change fixes; What names the setting.
	Rule, What string
	// Seq orders insertions at the same offset (lower first).
	Seq int
}

// Record is one applied replacement as the operator reviews it: the
// 1-based line range it covered in the old content and covers in the new
// one (an empty range, first > last, for a pure insertion or deletion),
// and the whole lines before and after.
type Record struct {
	Rule     string `json:"rule"`
	What     string `json:"what"`
	OldFirst int    `json:"old_first_line"`
	OldLast  int    `json:"old_last_line"`
	NewFirst int    `json:"new_first_line"`
	NewLast  int    `json:"new_last_line"`
	Before   string `json:"before"`
	After    string `json:"after"`
}

// Apply returns src with reps applied and one record per replacement, in
// file order. Overlapping replacements are an error: two fixes that want
// the same bytes must be merged before they get here.
func Apply(src []byte, reps []Replacement) ([]byte, []Record, error) {
	rs := append([]Replacement(nil), reps...)
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Start != rs[j].Start {
			return rs[i].Start < rs[j].Start
		}
		return rs[i].Seq < rs[j].Seq
	})
	for i, r := range rs {
		if r.Start < 0 || r.End < r.Start || r.End > len(src) {
			return nil, nil, fmt.Errorf("edit %q: range %d-%d outside the file (%d bytes)", r.What, r.Start, r.End, len(src))
		}
		if i > 0 && r.Start < rs[i-1].End {
			return nil, nil, fmt.Errorf("edits %q and %q overlap", rs[i-1].What, r.What)
		}
	}
	var out bytes.Buffer
	out.Grow(len(src) + 256)
	recs := make([]Record, 0, len(rs))
	prev := 0
	for _, r := range rs {
		out.Write(src[prev:r.Start])
		newStart := out.Len()
		out.WriteString(r.Text)
		newEnd := out.Len()
		prev = r.End
		recs = append(recs, Record{Rule: r.Rule, What: r.What, OldFirst: r.Start, OldLast: r.End, NewFirst: newStart, NewLast: newEnd})
	}
	out.Write(src[prev:])
	res := out.Bytes()
	// Turn byte ranges into whole-line ranges and texts.
	for i := range recs {
		recs[i].OldFirst, recs[i].OldLast, recs[i].Before = lineSpan(src, recs[i].OldFirst, recs[i].OldLast)
		recs[i].NewFirst, recs[i].NewLast, recs[i].After = lineSpan(res, recs[i].NewFirst, recs[i].NewLast)
	}
	return res, recs, nil
}

// lineSpan returns the 1-based first and last line of the byte range
// [start, end) and the text of those whole lines. An empty range gives
// first = last+1 (the line it sits before) and no text.
func lineSpan(b []byte, start, end int) (int, int, string) {
	first := 1 + bytes.Count(b[:start], []byte{'\n'})
	if end == start {
		return first, first - 1, ""
	}
	// A range ending just after a newline ends on that line.
	last := first + bytes.Count(b[start:end], []byte{'\n'})
	if b[end-1] == '\n' {
		last--
	}
	ls := bytes.LastIndexByte(b[:start], '\n') + 1
	le := end
	if b[end-1] != '\n' {
		if i := bytes.IndexByte(b[end:], '\n'); i >= 0 {
			le = end + i + 1
		} else {
			le = len(b)
		}
	}
	return first, last, string(b[ls:le])
}

// LineEnding is the line terminator a file uses: "\r\n" when its first
// line ends so, "\n" otherwise.
func LineEnding(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i > 0 && b[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// LineStart is the offset of the start of the line holding off.
func LineStart(b []byte, off int) int { return bytes.LastIndexByte(b[:off], '\n') + 1 }

// LineEnd is the offset just after the newline ending the line holding
// off (len(b) on a last line without one).
func LineEnd(b []byte, off int) int {
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(b)
}

// LineOffset is the offset of the start of 1-based line n (-1 past the end).
func LineOffset(b []byte, n int) int {
	if n < 1 {
		return -1
	}
	off := 0
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(b[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	if off > len(b) || (off == len(b) && n > 1 && (len(b) == 0 || b[len(b)-1] == '\n')) {
		return -1
	}
	return off
}
