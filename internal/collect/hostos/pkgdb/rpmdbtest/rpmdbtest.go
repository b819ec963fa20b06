// Package rpmdbtest writes rpm databases for tests: rpm header blobs laid
// out as rpm stores them (an immutable region, entries sorted by tag, data
// aligned by type) in an rpmdb.sqlite with the schema rpm 4.16+ creates.
// The real rpm reads what it writes (see the pkgdb tests). Test support
// only: nothing outside tests imports it.
package rpmdbtest

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"sort"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Package is one package to write.
type Package struct {
	Name, Version, Release, Arch string
	// Epoch is written when HasEpoch is set (rpm stores no tag for none).
	Epoch    uint32
	HasEpoch bool
}

// rpm tag numbers and types (rpmtag.h).
const (
	tagHeaderImmutable = 63
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagOS              = 1021
	tagArch            = 1022
	tagSourceRPM       = 1044

	typeInt32  = 4
	typeString = 6
	typeBin    = 7
)

type entry struct {
	tag, typ uint32
	data     []byte
}

// Header returns p's header blob as the rpm database holds it: no lead or
// magic, il and dl, the index, the data with the region trailer last.
func Header(p Package) []byte {
	es := []entry{
		{tagName, typeString, cstr(p.Name)},
		{tagVersion, typeString, cstr(p.Version)},
		{tagRelease, typeString, cstr(p.Release)},
		{tagOS, typeString, cstr("linux")},
		{tagArch, typeString, cstr(p.Arch)},
		{tagSourceRPM, typeString, cstr(fmt.Sprintf("%s-%s-%s.src.rpm", p.Name, p.Version, p.Release))},
	}
	if p.HasEpoch {
		es = append(es, entry{tagEpoch, typeInt32, binary.BigEndian.AppendUint32(nil, p.Epoch)})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].tag < es[j].tag })
	il := len(es) + 1 // the region tag
	var data []byte
	offsets := make([]uint32, len(es))
	for i, e := range es {
		if e.typ == typeInt32 {
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
		}
		offsets[i] = uint32(len(data))
		data = append(data, e.data...)
	}
	// The region trailer: an entry whose negative offset is the size of
	// the region's index.
	trailerAt := uint32(len(data))
	data = appendEntry(data, tagHeaderImmutable, typeBin, uint32(-int32(il*16)), 16)

	b := binary.BigEndian.AppendUint32(nil, uint32(il))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = appendEntry(b, tagHeaderImmutable, typeBin, trailerAt, 16)
	for i, e := range es {
		count := uint32(1)
		b = appendEntry(b, e.tag, e.typ, offsets[i], count)
	}
	return append(b, data...)
}

func appendEntry(b []byte, tag, typ, off, count uint32) []byte {
	b = binary.BigEndian.AppendUint32(b, tag)
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint32(b, off)
	return binary.BigEndian.AppendUint32(b, count)
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// indexTables are rpm's index tables (lib/backend/sqlite.c creates one per
// indexed tag); each is (key, hnum, idx).
var indexTables = []struct {
	name, keyType string
	hnumIndex     bool
}{
	{"Name", "TEXT", false}, {"Basenames", "TEXT", true}, {"Group", "TEXT", false},
	{"Requirename", "TEXT", true}, {"Providename", "TEXT", true}, {"Conflictname", "TEXT", true},
	{"Obsoletename", "TEXT", true}, {"Triggername", "TEXT", true}, {"Dirnames", "TEXT", true},
	{"Installtid", "BLOB", false}, {"Sigmd5", "BLOB", false}, {"Sha1header", "TEXT", false},
	{"Filetriggername", "TEXT", true}, {"Transfiletriggername", "TEXT", true}, {"Recommendname", "TEXT", true},
	{"Suggestname", "TEXT", true}, {"Supplementname", "TEXT", true}, {"Enhancename", "TEXT", true},
}

// WriteSQLite creates file as rpm 4.18 would with pkgs installed: the
// Packages table of header blobs, the Name index filled, the other index
// tables empty, in WAL journal mode.
func WriteSQLite(file string, pkgs []Package) error {
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	stmts := []string{
		"PRAGMA journal_mode = WAL",
		"CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)",
	}
	for _, t := range indexTables {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE IF NOT EXISTS '%s' (key '%s' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))", t.name, t.keyType))
		if t.keyType == "TEXT" {
			stmts = append(stmts, fmt.Sprintf("CREATE INDEX '%s_key_idx' ON '%s'(key ASC)", t.name, t.name))
		}
		if t.hnumIndex {
			stmts = append(stmts, fmt.Sprintf("CREATE INDEX '%s_hnum_idx' ON '%s'(hnum ASC)", t.name, t.name))
		}
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		res, err := tx.Exec("INSERT INTO Packages (blob) VALUES (?)", Header(p))
		if err != nil {
			tx.Rollback()
			return err
		}
		hnum, _ := res.LastInsertId()
		if _, err := tx.Exec("INSERT INTO Name (key, hnum, idx) VALUES (?, ?, 0)", p.Name, hnum); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// As rpm on close: checkpoint, so the database file holds everything.
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
