package wso2

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
)

// MaxConfigFile caps how much of any one file the collector reads (config
// files, scripts, keystores): real ones are under 1 MiB, so a larger file
// is refused with an error rather than read.
const MaxConfigFile = 16 << 20

// home reads files of a product installation, never outside it.
type home struct {
	dir  string
	root *os.Root // nil when fsys is used
	fsys fs.FS
}

func openHome(dir string, fsys fs.FS) (*home, error) {
	if fsys != nil {
		return &home{dir: dir, fsys: fsys}, nil
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &home{dir: dir, root: r}, nil
}

func (h *home) close() {
	if h.root != nil {
		h.root.Close()
	}
}

// stat returns file info of a path relative to the home (symlinks inside
// the home are followed; ones leaving it are refused by os.Root).
func (h *home) stat(name string) (fs.FileInfo, error) {
	if h.root != nil {
		return h.root.Stat(name)
	}
	return fs.Stat(h.fsys, name)
}

func (h *home) exists(name string) bool {
	fi, err := h.stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// read returns a regular file's content, at most MaxConfigFile bytes.
func (h *home) read(name string) ([]byte, error) {
	fi, err := h.stat(name)
	if err != nil {
		return nil, cleanErr(name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, fi.Mode().Type())
	}
	if fi.Size() > MaxConfigFile {
		return nil, fmt.Errorf("%s: %d bytes is over the %d MiB limit for a configuration file; not read", name, fi.Size(), MaxConfigFile>>20)
	}
	var f io.ReadCloser
	if h.root != nil {
		// O_NONBLOCK: a FIFO swapped in after the stat must not hang us.
		f, err = h.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	} else {
		f, err = h.fsys.Open(name)
	}
	if err != nil {
		return nil, cleanErr(name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigFile+1))
	if err != nil {
		return nil, cleanErr(name, err)
	}
	if len(b) > MaxConfigFile {
		return nil, fmt.Errorf("%s: over the %d MiB limit for a configuration file; not read", name, MaxConfigFile>>20)
	}
	return b, nil
}

// list returns the names in a directory, sorted ("" and nil when absent).
func (h *home) list(dir string) []string {
	var entries []fs.DirEntry
	var err error
	if h.root != nil {
		var f *os.File
		f, err = h.root.Open(dir)
		if err != nil {
			return nil
		}
		defer f.Close()
		entries, err = f.ReadDir(4096)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil
		}
	} else {
		entries, err = fs.ReadDir(h.fsys, dir)
		if err != nil {
			return nil
		}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// cleanErr states a file error without the absolute path of the home.
func cleanErr(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file", name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", name)
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%s: too many levels of symbolic links (loop)", name)
	}
	if strings.Contains(err.Error(), "escapes from parent") {
		return fmt.Errorf("%s: a symbolic link leads outside the product directory; refused", name)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func join(parts ...string) string { return path.Join(parts...) }
