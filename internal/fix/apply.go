package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// StampLayout is the time format of a backup stamp: FILE.rampart-STAMP.
const StampLayout = "20060102T150405"

// Stamp is the backup stamp of a run at t (UTC).
func Stamp(t time.Time) string { return t.UTC().Format(StampLayout) }

// manifestName records, in each root, what a run changed, for --undo.
func manifestName(stamp string) string { return ".rampart-fix-" + stamp + ".json" }

type manifest struct {
	Stamp   string          `json:"stamp"`
	Entries []manifestEntry `json:"files"`
}

type manifestEntry struct {
	Path string `json:"path"`
	// Created files have no backup: undo removes them.
	Created bool `json:"created"`
	// Hash is the SHA-256 of the content written, so undo leaves alone a
	// file someone changed after the run.
	Hash string `json:"sha256_written"`
}

// Applied is what Apply wrote.
type Applied struct {
	Stamp string
	// Backups are the backup files made, relative to their root.
	Backups []string
	Written []string
}

type staged struct {
	c      *Change
	root   *os.Root
	tmp    string
	backup string
}

// Apply writes every change, or none: each file is first checked against
// the content it was planned from (its SHA-256) and for being writable,
// the new contents are staged beside their files, every changed file is
// copied to FILE.rampart-STAMP, and only then are the staged files renamed
// into place. A failure before the renames removes what was staged and
// touches nothing; a failing rename restores what was already replaced.
func Apply(changes []*Change, now time.Time) (*Applied, error) {
	stamp := Stamp(now)
	res := &Applied{Stamp: stamp}
	if len(changes) == 0 {
		return res, nil
	}
	roots := map[string]*os.Root{}
	defer func() {
		for _, r := range roots {
			r.Close()
		}
	}()
	openRoot := func(dir string) (*os.Root, error) {
		if r, ok := roots[dir]; ok {
			return r, nil
		}
		r, err := os.OpenRoot(dir)
		if err != nil {
			return nil, err
		}
		roots[dir] = r
		return r, nil
	}
	// 1. Preflight: every file as planned, every file writable.
	var problems []string
	for _, c := range changes {
		r, err := openRoot(c.Root)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", c.Root, err))
			continue
		}
		if err := preflight(r, c); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing was written:\n  %s", strings.Join(problems, "\n  "))
	}
	// 2. Stage new contents beside their files.
	var st []*staged
	cleanup := func() {
		for _, s := range st {
			if s.tmp != "" {
				_ = s.root.Remove(s.tmp)
			}
			if s.backup != "" {
				_ = s.root.Remove(s.backup)
			}
		}
	}
	for _, c := range changes {
		r := roots[c.Root]
		s := &staged{c: c, root: r}
		st = append(st, s)
		if err := mkdirs(r, path.Dir(c.Path)); err != nil {
			cleanup()
			return nil, fmt.Errorf("nothing was written: %s: %w", c.Path, err)
		}
		tmp, err := writeTemp(r, c)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("nothing was written: %s: %w", c.Path, err)
		}
		s.tmp = tmp
	}
	// 3. Back up every file that exists.
	for _, s := range st {
		if s.c.Action == Create {
			continue
		}
		b := s.c.Path + ".rampart-" + stamp
		if err := copyFile(s.root, s.c.Path, b); err != nil {
			cleanup()
			return nil, fmt.Errorf("nothing was written: backup of %s: %w", s.c.Path, err)
		}
		s.backup = b
	}
	// 4. The manifest, then the renames.
	byRoot := map[string]*manifest{}
	for _, s := range st {
		m := byRoot[s.c.Root]
		if m == nil {
			m = &manifest{Stamp: stamp}
			byRoot[s.c.Root] = m
		}
		m.Entries = append(m.Entries, manifestEntry{Path: s.c.Path, Created: s.c.Action == Create, Hash: Hash(s.c.After)})
	}
	var manifests []struct {
		root *os.Root
		name string
	}
	for dir, m := range byRoot {
		b, _ := json.MarshalIndent(m, "", "  ")
		name := manifestName(stamp)
		f, err := roots[dir].OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(append(b, '\n'))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			cleanup()
			for _, mf := range manifests {
				_ = mf.root.Remove(mf.name)
			}
			return nil, fmt.Errorf("nothing was written: %s: %w", path.Join(dir, name), err)
		}
		manifests = append(manifests, struct {
			root *os.Root
			name string
		}{roots[dir], name})
	}
	for i, s := range st {
		if err := s.root.Rename(s.tmp, s.c.Path); err != nil {
			// Put back what was already replaced.
			for _, done := range st[:i] {
				if done.backup != "" {
					_ = copyFile(done.root, done.backup, done.c.Path)
				} else {
					_ = done.root.Remove(done.c.Path)
				}
			}
			for _, rest := range st[i:] {
				_ = rest.root.Remove(rest.tmp)
			}
			return nil, fmt.Errorf("%s: %w (the files already written were restored from their backups)", s.c.Path, err)
		}
		s.tmp = ""
		res.Written = append(res.Written, path.Join(s.c.Root, s.c.Path))
		if s.backup != "" {
			res.Backups = append(res.Backups, path.Join(s.c.Root, s.backup))
		}
	}
	return res, nil
}

func preflight(r *os.Root, c *Change) error {
	fi, err := r.Lstat(c.Path)
	if c.Action == Create {
		if err == nil {
			return fmt.Errorf("%s: exists now, but did not when the fix was planned; refused", path.Join(c.Root, c.Path))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %v", path.Join(c.Root, c.Path), cleanErr(err))
		}
		return nil
	}
	full := path.Join(c.Root, c.Path)
	if err != nil {
		return fmt.Errorf("%s: %v", full, cleanErr(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s); refused", full, fi.Mode().Type())
	}
	if needsWrite(c) && fi.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s (%s): the file is read-only (mode %04o); make it writable to let fix change it", full, strings.Join(c.Rules, ", "), fi.Mode().Perm())
	}
	f, err := r.Open(c.Path)
	if err != nil {
		return fmt.Errorf("%s: %v", full, cleanErr(err))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %v", full, cleanErr(err))
	}
	if Hash(b) != c.Hash {
		return fmt.Errorf("%s: changed on disk since it was scanned (SHA-256 %s…, now %s…); run fix again", full, short(c.Hash), short(Hash(b)))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func mkdirs(r *os.Root, dir string) error {
	if dir == "." || dir == "/" || dir == "" {
		return nil
	}
	if fi, err := r.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if err := mkdirs(r, path.Dir(dir)); err != nil {
		return err
	}
	if err := r.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// writeTemp writes a change's new content to a temporary file in its
// directory, with the file's mode (and owner, when it has one to keep).
func writeTemp(r *os.Root, c *Change) (string, error) {
	dir, base := path.Split(c.Path)
	var name string
	var f *os.File
	var err error
	for i := 0; i < 100; i++ {
		name = dir + "." + base + ".rampart-tmp-" + fmt.Sprint(os.Getpid(), i)
		f, err = r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return "", cleanErr(err)
	}
	_, err = f.Write(c.After)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = r.Remove(name)
		return "", err
	}
	mode := fs.FileMode(c.Mode).Perm()
	if mode == 0 {
		mode = 0o644
	}
	if err := r.Chmod(name, mode); err != nil {
		_ = r.Remove(name)
		return "", err
	}
	if c.Action != Create {
		if fi, err := r.Stat(c.Path); err == nil {
			if uid, gid, ok := owner(fi); ok {
				_ = r.Chown(name, uid, gid) // only root can; keeping the owner is best effort
			}
		}
	}
	return name, nil
}

func copyFile(r *os.Root, from, to string) error {
	in, err := r.Open(from)
	if err != nil {
		return cleanErr(err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := r.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if errors.Is(err, fs.ErrExist) && !strings.Contains(to, ".rampart-") {
		out, err = r.OpenFile(to, os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	}
	if err != nil {
		return cleanErr(err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Undo restores the files a run changed under root: each backup
// FILE.rampart-STAMP goes back to FILE, and files the run created are
// removed. A file changed again since the run is left alone and reported.
func Undo(root, stamp string) ([]string, error) {
	if _, err := time.Parse(StampLayout, stamp); err != nil {
		return nil, fmt.Errorf("%q is not a backup stamp (YYYYMMDDTHHMMSS)", stamp)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := r.ReadFile(manifestName(stamp))
	if err != nil {
		return nil, fmt.Errorf("%s: no fix was applied here with stamp %s (%v)", root, stamp, cleanErr(err))
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestName(stamp), err)
	}
	// Check everything first: undo is all-or-nothing too.
	var problems []string
	for _, e := range m.Entries {
		cur, err := r.ReadFile(e.Path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", e.Path, cleanErr(err)))
			continue
		}
		if Hash(cur) != e.Hash {
			problems = append(problems, fmt.Sprintf("%s: changed since the fix was applied; not restored", e.Path))
		}
		if !e.Created {
			if _, err := r.Stat(e.Path + ".rampart-" + stamp); err != nil {
				problems = append(problems, fmt.Sprintf("%s: backup missing (%v)", e.Path, cleanErr(err)))
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing was restored:\n  %s", strings.Join(problems, "\n  "))
	}
	var done []string
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Path < m.Entries[j].Path })
	for _, e := range m.Entries {
		if e.Created {
			if err := r.Remove(e.Path); err != nil {
				return done, fmt.Errorf("%s: %w", e.Path, err)
			}
			done = append(done, "removed "+path.Join(root, e.Path))
			continue
		}
		if err := r.Rename(e.Path+".rampart-"+stamp, e.Path); err != nil {
			return done, fmt.Errorf("%s: %w", e.Path, err)
		}
		done = append(done, "restored "+path.Join(root, e.Path))
	}
	if err := r.Remove(manifestName(stamp)); err != nil {
		return done, err
	}
	return done, nil
}
