package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix/edit"
	"github.com/rampart-sec/rampart/internal/fix/propedit"
	"github.com/rampart-sec/rampart/internal/fix/shedit"
	"github.com/rampart-sec/rampart/internal/fix/tomledit"
)

// MaxFile bounds any file a fix reads.
const MaxFile = 16 << 20

// Workspace reads the files of one target (under Root, never outside it)
// once, holds the edits the fixers ask for, and renders them as changes.
type Workspace struct {
	Target string
	Root   string
	files  map[string]*wsFile
}

type wsFile struct {
	rel    string
	orig   []byte
	exists bool
	mode   fs.FileMode
	hash   string
	toml   *tomledit.Doc
	props  *propedit.Doc
	sh     *shedit.Doc
	text   *TextDoc
	// whole is the full new content of a created or replaced file.
	whole   []byte
	binary  bool
	newMode fs.FileMode
	rules   []string
	summary string
	// chmod is a new mode for a file whose content stays.
	chmod fs.FileMode
}

// NewWorkspace returns a workspace over the directory root.
func NewWorkspace(target, root string) *Workspace {
	return &Workspace{Target: target, Root: root, files: map[string]*wsFile{}}
}

// ErrNotExist is returned for files the target does not have.
var ErrNotExist = fs.ErrNotExist

func (w *Workspace) load(rel string) (*wsFile, error) {
	rel = path.Clean(strings.TrimPrefix(rel, "/"))
	if f, ok := w.files[rel]; ok {
		return f, nil
	}
	f := &wsFile{rel: rel}
	r, err := os.OpenRoot(w.Root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Root, err)
	}
	defer r.Close()
	fi, err := r.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.files[rel] = f
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", rel, cleanErr(err))
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s: not a regular file", rel)
	case fi.Size() > MaxFile:
		return nil, fmt.Errorf("%s: %d bytes is over the %d MiB limit", rel, fi.Size(), MaxFile>>20)
	}
	h, err := r.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, cleanErr(err))
	}
	defer h.Close()
	b, err := io.ReadAll(io.LimitReader(h, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, cleanErr(err))
	}
	f.orig, f.exists, f.mode, f.hash = b, true, fi.Mode().Perm(), Hash(b)
	w.files[rel] = f
	return f, nil
}

func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Hash is the hex SHA-256 of b.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Read returns a file's content (ErrNotExist when it has none).
func (w *Workspace) Read(rel string) ([]byte, error) {
	f, err := w.load(rel)
	if err != nil {
		return nil, err
	}
	if !f.exists {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotExist)
	}
	return f.orig, nil
}

// Exists reports whether the target has the file.
func (w *Workspace) Exists(rel string) bool {
	f, err := w.load(rel)
	return err == nil && f.exists
}

// Resolves reports whether rel exists, following a symbolic link inside
// the root as the host would see it (systemctl enable makes links with
// absolute targets such as /lib/systemd/system/nftables.service).
func (w *Workspace) Resolves(rel string) bool {
	r, err := os.OpenRoot(w.Root)
	if err != nil {
		return false
	}
	defer r.Close()
	p := path.Clean(strings.TrimPrefix(rel, "/"))
	for i := 0; i < 8; i++ {
		fi, err := r.Lstat(p)
		if err != nil {
			return false
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return true
		}
		target, err := r.Readlink(p)
		if err != nil {
			return false
		}
		if path.IsAbs(target) {
			p = path.Clean(strings.TrimPrefix(target, "/"))
		} else {
			p = path.Join(path.Dir(p), target)
		}
		if strings.HasPrefix(p, "../") || p == ".." {
			return false
		}
	}
	return false
}

// TOML returns the editable TOML document of an existing file.
func (w *Workspace) TOML(rel string) (*tomledit.Doc, error) {
	f, err := w.load(rel)
	if err != nil {
		return nil, err
	}
	if f.toml != nil {
		return f.toml, nil
	}
	if !f.exists {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotExist)
	}
	d, err := tomledit.Parse(f.orig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	f.toml = d
	return d, nil
}

// Props returns the editable properties document of a file (an empty one
// when the file does not exist yet: it is created).
func (w *Workspace) Props(rel string) (*propedit.Doc, error) {
	f, err := w.load(rel)
	if err != nil {
		return nil, err
	}
	if f.props != nil {
		return f.props, nil
	}
	d, err := propedit.Parse(f.orig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	f.props = d
	return d, nil
}

// Shell returns the editable start script.
func (w *Workspace) Shell(rel string) (*shedit.Doc, error) {
	f, err := w.load(rel)
	if err != nil {
		return nil, err
	}
	if f.sh != nil {
		return f.sh, nil
	}
	if !f.exists {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotExist)
	}
	d, err := shedit.Parse(f.orig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	f.sh = d
	return d, nil
}

// Text returns a document edited by byte-range replacements.
func (w *Workspace) Text(rel string) (*TextDoc, error) {
	f, err := w.load(rel)
	if err != nil {
		return nil, err
	}
	if f.text != nil {
		return f.text, nil
	}
	if !f.exists {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotExist)
	}
	f.text = &TextDoc{Src: f.orig}
	return f.text, nil
}

// Write asks for a file's whole new content: a new file, or a binary file
// rewritten. summary says what it holds (shown instead of a diff for a
// binary file).
func (w *Workspace) Write(rel string, content []byte, mode fs.FileMode, binary bool, rule, summary string) error {
	f, err := w.load(rel)
	if err != nil {
		return err
	}
	f.whole, f.binary, f.newMode, f.summary = content, binary, mode, summary
	f.addRule(rule)
	return nil
}

// Chmod asks for an existing file's mode to become mode (content kept).
func (w *Workspace) Chmod(rel string, mode fs.FileMode, rule, summary string) error {
	f, err := w.load(rel)
	if err != nil {
		return err
	}
	if !f.exists {
		return fmt.Errorf("%s: %w", rel, ErrNotExist)
	}
	f.chmod, f.summary = mode, summary
	f.addRule(rule)
	return nil
}

func (f *wsFile) addRule(rule string) {
	for _, r := range strings.Split(rule, ",") {
		if r != "" && !containsStr(f.rules, r) {
			f.rules = append(f.rules, r)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Changes renders every file's edits. A file whose edits change nothing
// gives no change.
func (w *Workspace) Changes() ([]*Change, error) {
	var out []*Change
	rels := make([]string, 0, len(w.files))
	for r := range w.files {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		f := w.files[rel]
		c := &Change{Target: w.Target, Root: w.Root, Path: rel, Before: f.orig, Hash: f.hash, Mode: uint32(f.mode), ModeBefore: uint32(f.mode)}
		if !f.exists {
			c.Hash, c.ModeBefore = "", 0
		}
		var after []byte
		var recs []edit.Record
		var err error
		switch {
		case f.whole != nil:
			after = f.whole
			c.Binary, c.Summary = f.binary, f.summary
			c.Mode = uint32(f.newMode)
			if f.exists && f.mode != 0 {
				c.Mode = uint32(f.mode)
			}
		case f.toml != nil:
			after, recs, err = f.toml.Render()
		case f.props != nil:
			after, recs, err = f.props.Render()
		case f.sh != nil:
			after, recs, err = f.sh.Render()
		case f.text != nil:
			after, recs, err = edit.Apply(f.text.Src, f.text.reps)
		case f.chmod != 0:
			if f.chmod == f.mode {
				continue
			}
			c.After, c.Mode, c.Action, c.Summary = f.orig, uint32(f.chmod), Chmod, f.summary
			c.Rules = append([]string{}, f.rules...)
			out = append(out, c)
			continue
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		if f.exists && string(after) == string(f.orig) {
			continue
		}
		if !f.exists && f.whole == nil && len(recs) == 0 {
			continue
		}
		for i := range recs {
			recs[i].Rule = NormalizeRules(recs[i].Rule)
		}
		c.After, c.Edits = after, recs
		rules := append([]string{}, f.rules...)
		for _, r := range recs {
			for _, x := range strings.Split(r.Rule, ",") {
				if x != "" && !containsStr(rules, x) {
					rules = append(rules, x)
				}
			}
		}
		sort.Strings(rules)
		c.Rules = rules
		if f.chmod != 0 {
			c.Mode = uint32(f.chmod)
		}
		switch {
		case !f.exists:
			c.Action = Create
			if c.Mode == 0 {
				c.Mode = 0o644
			}
		case f.whole != nil && f.binary:
			c.Action = Replace
		default:
			c.Action = Edit
		}
		out = append(out, c)
	}
	return out, nil
}

// TextDoc collects byte-range replacements of a text file (XML, a
// template) that no format editor covers.
type TextDoc struct {
	Src  []byte
	reps []edit.Replacement
}

// Replace asks for Src[start:end] to become text.
func (t *TextDoc) Replace(start, end int, text, rule, what string) {
	for _, r := range t.reps {
		if r.Start == start && r.End == end {
			return
		}
	}
	t.reps = append(t.reps, edit.Replacement{Start: start, End: end, Text: text, Rule: rule, What: what, Seq: len(t.reps)})
}

// NormalizeRules writes a comma-separated rule list sorted, each once.
func NormalizeRules(s string) string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" && !containsStr(out, r) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
