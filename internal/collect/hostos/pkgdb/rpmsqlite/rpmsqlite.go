// Package rpmsqlite reads rpm's SQLite database (rpmdb.sqlite, rpm 4.16
// and later: Fedora 33+, RHEL 9 and its rebuilds, Amazon Linux 2023,
// openSUSE) as a file, through a root, with SQLite's read-only immutable
// mode: no lock is taken, no journal or shared-memory file is created,
// nothing is written. It is a package of its own so that pkgdb's parsers
// are fuzzed without the SQLite engine linked in.
package rpmsqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
	"modernc.org/sqlite/vfs"

	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

const (
	// maxRows bounds the packages read from one database.
	maxRows     = 1 << 20
	sqliteMagic = "SQLite format 3\x00"
)

// Read reads every installed package from an rpmdb.sqlite,
// through the root (links resolved inside it) with SQLite's read-only,
// immutable mode: no lock is taken, no journal or shared-memory file is
// created, and nothing is written.
func Read(ctx context.Context, r *rootfs.Root, file string) (*pkgdb.Installed, error) {
	resolved, err := r.Resolve(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// SQLite reads the header itself; checking the magic first turns a
	// file of another kind into a clear error rather than "not a database".
	f, err := r.Open(resolved)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	magic := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, magic)
	f.Close()
	if err != nil || string(magic) != sqliteMagic {
		return nil, fmt.Errorf("%s is not an SQLite database", file)
	}
	name, vfsys, err := vfs.New(rootFS{r})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer vfsys.Close()
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(resolved, "/")+"?vfs="+name+"&mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	pkgs, err := queryRPMHeaders(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	inst := pkgdb.NewRPMInstalled(pkgs, file)
	return inst, nil
}

func queryRPMHeaders(ctx context.Context, db *sql.DB) ([]pkgdb.RPMPackage, error) {
	rows, err := db.QueryContext(ctx, "SELECT hnum, blob FROM Packages")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pkgs []pkgdb.RPMPackage
	var bad []string
	for rows.Next() {
		if len(pkgs)+len(bad) >= maxRows {
			return nil, fmt.Errorf("more than %d packages", maxRows)
		}
		var hnum int64
		var blob []byte
		if err := rows.Scan(&hnum, &blob); err != nil {
			return nil, err
		}
		p, err := pkgdb.ParseRPMHeader(blob)
		if err != nil {
			bad = append(bad, fmt.Sprintf("header %d: %v", hnum, err))
			continue
		}
		pkgs = append(pkgs, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		// One unreadable header makes the installed set unknown: a package
		// missing from it could be the one with the pending update.
		return nil, fmt.Errorf("%d unreadable package header(s): %s", len(bad), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	return pkgs, nil
}

// rootFS serves in-root paths to SQLite's VFS, resolving links inside the
// root.
type rootFS struct{ r *rootfs.Root }

func (f rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return f.r.Open("/" + name)
}
