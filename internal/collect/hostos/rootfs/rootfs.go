// Package rootfs reads an operating system's files through a root
// directory: this machine's "/" or a mounted image. Paths are absolute as
// seen from inside the root ("/etc/ssh/sshd_config"); symbolic links are
// resolved inside the root, as chroot would (an absolute link target
// starts again at the root, ".." stops at it), never on the machine that
// runs the scan. Every read is bounded.
package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// maxLinks bounds symbolic links followed in one path (Linux: 40).
const maxLinks = 40

// ErrTooLarge means a file is larger than the caller's limit.
var ErrTooLarge = errors.New("file too large")

// Root is a root file system.
type Root struct {
	fsys fs.FS
	// Dir is the root's path on the scanning machine, for messages.
	Dir string
}

// New returns a Root reading fsys, whose top is the root directory dir.
func New(fsys fs.FS, dir string) *Root { return &Root{fsys: fsys, Dir: dir} }

// rel turns an absolute in-root path into an fs.FS path.
func rel(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// Resolve returns p with every symbolic link resolved inside the root.
func (r *Root) Resolve(p string) (string, error) {
	rl, ok := r.fsys.(fs.ReadLinkFS)
	if !ok {
		return path.Clean("/" + p), nil
	}
	links := 0
	done := "/"
	todo := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, c)
		fi, err := rl.Lstat(rel(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		links++
		if links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := rl.ReadLink(rel(next))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = "/"
		}
		todo = append(strings.Split(strings.Trim(target, "/"), "/"), todo...)
	}
	return done, nil
}

// fsPath resolves p for reading. /proc and /sys are read as they are: the
// kernel's own links there (/proc/self, /proc/net) are relative.
func (r *Root) fsPath(p string) (string, error) {
	clean := path.Clean("/" + p)
	if strings.HasPrefix(clean, "/proc/") || strings.HasPrefix(clean, "/sys/") {
		return rel(clean), nil
	}
	res, err := r.Resolve(clean)
	if err != nil {
		return "", err
	}
	return rel(res), nil
}

// ReadFile reads p, failing with ErrTooLarge beyond limit bytes.
func (r *Root) ReadFile(p string, limit int64) ([]byte, error) {
	fp, err := r.fsPath(p)
	if err != nil {
		return nil, err
	}
	f, err := r.fsys.Open(fp)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return b, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", p, ErrTooLarge, limit)
	}
	return b, nil
}

// Open opens p for reading (the caller bounds what it reads).
func (r *Root) Open(p string) (fs.File, error) {
	fp, err := r.fsPath(p)
	if err != nil {
		return nil, err
	}
	return r.fsys.Open(fp)
}

// Stat returns p's information, following links inside the root.
func (r *Root) Stat(p string) (fs.FileInfo, error) {
	fp, err := r.fsPath(p)
	if err != nil {
		return nil, err
	}
	return fs.Stat(r.fsys, fp)
}

// Lstat returns p's own information without following a final link.
func (r *Root) Lstat(p string) (fs.FileInfo, error) {
	dir, base := path.Split(path.Clean("/" + p))
	d, err := r.fsPath(dir)
	if err != nil {
		return nil, err
	}
	if rl, ok := r.fsys.(fs.ReadLinkFS); ok {
		return rl.Lstat(path.Join(d, base))
	}
	return fs.Stat(r.fsys, path.Join(d, base))
}

// ReadLink returns the target of the link p (for /proc/PID/exe and fd).
func (r *Root) ReadLink(p string) (string, error) {
	fp := rel(path.Clean("/" + p))
	return fs.ReadLink(r.fsys, fp)
}

// ReadDir lists p.
func (r *Root) ReadDir(p string) ([]fs.DirEntry, error) {
	fp, err := r.fsPath(p)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(r.fsys, fp)
}

// Glob returns the in-root paths matching pattern (path.Match syntax),
// sorted. Links in the fixed leading part are resolved.
func (r *Root) Glob(pattern string) ([]string, error) {
	pattern = path.Clean("/" + pattern)
	matches, err := fs.Glob(r.fsys, rel(pattern))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		out = append(out, "/"+m)
	}
	return out, nil
}

// Exists reports whether p exists (following links inside the root).
func (r *Root) Exists(p string) bool {
	_, err := r.Stat(p)
	return err == nil
}

// Owner returns the numeric owner and group of fi, or -1 when the file
// system does not say (fstest.MapFS without Sys).
func Owner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
