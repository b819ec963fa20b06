package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// reportMode is the mode a new report file is created with; the process's
// umask applies (0644 under the usual 022): a report is for reading.
const reportMode = 0o644

// writeOutput writes what render produces to path, or to stdout when path
// is empty or "-".
//
// A regular file (new, or replaced) is written atomically: into a
// temporary file beside it, renamed over it once complete, so a failed
// render never leaves half a report. A new file gets mode 0644 minus the
// umask; a replaced one keeps its mode. A symlink to a regular file
// replaces the file it points to and stays a symlink. Anything else (a
// device such as /dev/null or /dev/stdout, a FIFO, a symlink to one) is
// written through, never renamed over: replacing /dev/null with a regular
// file would break the machine.
func writeOutput(path string, stdout io.Writer, render func(io.Writer) error) error {
	if path == "" || path == "-" {
		return render(stdout)
	}
	dest := path
	mode := fs.FileMode(reportMode)
	replacing := false
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			if fi.IsDir() {
				return fmt.Errorf("output %s: is a directory", path)
			}
			return writeThrough(path, render)
		}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			dest = real
		}
		mode, replacing = fi.Mode().Perm(), true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("output: %w", err)
	}
	tmp, err := createTemp(dest, mode)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := render(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("output: %w", err)
	}
	if replacing {
		// Keep a replaced file's mode exactly (the umask applied at create).
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return fmt.Errorf("output: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// createTemp creates a new file beside dest with mode perm (the umask
// applies, as for any file the process creates).
func createTemp(dest string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	for range 10 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("cannot create a temporary file beside %s", dest)
}

// writeThrough writes into an existing file that is not a regular one (a
// device, a FIFO), as a shell redirection would.
func writeThrough(path string, render func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := render(f); err != nil {
		f.Close()
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}
