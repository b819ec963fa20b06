package finding

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"sync"
)

// Spill keeps a run's findings in a temporary file instead of memory, one
// target's findings after another as they are judged, compactly encoded
// (codec), and gives them back in the report's order (Each): a fleet of
// 10,000 endpoints holds about 700,000 findings, hundreds of MiB as
// values. What the report needs of them without reading them back (the
// summary, each target's score) is kept as they are added.
//
// The file is removed from the directory as soon as it is created (its
// descriptor keeps it until Close), so nothing is left behind by a crash.
type Spill struct {
	mu      sync.Mutex
	file    *os.File
	w       *bufio.Writer
	off     int64
	c       *codec
	buf     []byte
	chunks  []spillChunk
	n       int
	summary Summary
	sealed  bool
	dup     bool
	err     error
}

// spillChunk is one target's findings in the file, sorted.
type spillChunk struct {
	target string
	off    int64
	size   int
	n      int
	score  *Score
}

// maxSpillStrings bounds the string table (about 16 bytes of table and a
// map entry per string, plus the strings, which are mostly shared with the
// rules already).
const maxSpillStrings = 1 << 18

// NewSpill creates an empty spill in dir (os.TempDir() when "").
func NewSpill(dir string) (*Spill, error) {
	f, err := os.CreateTemp(dir, "rampart-findings-*")
	if err != nil {
		return nil, fmt.Errorf("spilling findings: %w", err)
	}
	// Unlinked at once on systems that allow it; the descriptor keeps it.
	_ = os.Remove(f.Name())
	return &Spill{file: f, w: bufio.NewWriterSize(f, 256<<10), c: newCodec(maxSpillStrings), summary: emptySummary()}, nil
}

// Add stores fs (the findings of one or more targets, in any order; Add
// sorts them in place). Each target's findings must come in one call.
func (s *Spill) Add(fs []Finding) error {
	if len(fs) == 0 {
		return nil
	}
	sort.SliceStable(fs, func(i, j int) bool { return less(&fs[i], &fs[j]) })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.sealed {
		s.err = fmt.Errorf("spilling findings: added after being read")
		return s.err
	}
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j].Target == fs[i].Target {
			j++
		}
		run := fs[i:j]
		b := s.buf[:0]
		for k := range run {
			b = s.c.encode(b, &run[k])
			s.summary.add(&run[k])
		}
		s.buf = b
		if _, err := s.w.Write(b); err != nil {
			s.err = fmt.Errorf("spilling findings: %w", err)
			return s.err
		}
		s.chunks = append(s.chunks, spillChunk{target: run[0].Target, off: s.off, size: len(b), n: len(run), score: ScoreOf(run)})
		s.off += int64(len(b))
		s.n += len(run)
		i = j
	}
	return nil
}

// Len is the number of findings added.
func (s *Spill) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Err is the first error writing or reading the file: a report whose
// findings could not all be kept or read back must not be trusted.
func (s *Spill) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// seal ends adding: it flushes the file and orders the targets. It
// reports whether two chunks have the same target (then the findings must
// be sorted as a whole).
func (s *Spill) seal() (dup bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed || s.err != nil {
		return s.dup, s.err
	}
	s.sealed = true
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("spilling findings: %w", err)
		return false, s.err
	}
	sort.SliceStable(s.chunks, func(i, j int) bool { return s.chunks[i].target < s.chunks[j].target })
	for i := 1; i < len(s.chunks); i++ {
		if s.chunks[i].target == s.chunks[i-1].target {
			s.dup = true
		}
	}
	return s.dup, nil
}

// scores returns each target's score, computed as its findings came.
func (s *Spill) scores() map[string]*Score {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]*Score, len(s.chunks))
	for _, c := range s.chunks {
		m[c.target] = c.score
	}
	return m
}

// Each calls fn with every finding, ordered by target and, within a
// target, by rule and fingerprint (the report's order). fn gets a finding
// of its own, which it may keep.
func (s *Spill) Each(fn func(*Finding) error) error {
	if _, err := s.seal(); err != nil {
		return err
	}
	s.mu.Lock()
	chunks := s.chunks
	s.mu.Unlock()
	var buf []byte
	for _, c := range chunks {
		if cap(buf) < c.size {
			buf = make([]byte, c.size)
		}
		buf = buf[:c.size]
		if _, err := s.file.ReadAt(buf, c.off); err != nil {
			return s.fail(fmt.Errorf("reading spilled findings of %s: %w", c.target, err))
		}
		r := reader{c: s.c, b: buf}
		for range c.n {
			f := &Finding{}
			if err := r.decode(f); err != nil {
				return s.fail(fmt.Errorf("reading spilled findings of %s: %w", c.target, err))
			}
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Spill) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	return err
}

// Close releases the file.
func (s *Spill) Close() error {
	if s == nil {
		return nil
	}
	return s.file.Close()
}

func (s *Spill) summaryCopy() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := emptySummary()
	out.Total = s.summary.Total
	for k, v := range s.summary.ByStatus {
		out.ByStatus[k] = v
	}
	for k, v := range s.summary.BySeverity {
		out.BySeverity[k] = v
	}
	return out
}
