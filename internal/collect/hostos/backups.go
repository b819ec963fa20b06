package hostos

import (
	"io/fs"
	"path"

	"github.com/rampart-sec/rampart/internal/facts"
)

// Bounds on walking a backup location.
const (
	backupMaxDepth   = 4
	backupMaxEntries = 20000
)

// backups examines each declared backup location: does it exist, and
// which is the newest file in it (by modification time).
func (s *scan) backups() {
	for _, loc := range s.t.Decl.BackupLocations {
		b := facts.Backup{Location: loc, Origin: facts.Origin{File: loc, Note: "declared in the inventory (backup_locations)"}}
		fi, err := s.r.Stat(loc)
		if err == nil {
			b.Exists = true
			if !fi.IsDir() {
				b.NewestFile, b.Newest = path.Base(loc), fi.ModTime().UTC()
			} else {
				seen := 0
				s.newest(loc, "", 0, &seen, &b)
			}
		}
		s.h.Backups = append(s.h.Backups, b)
	}
}

func (s *scan) newest(dir, rel string, depth int, seen *int, b *facts.Backup) {
	if depth > backupMaxDepth {
		return
	}
	ents, err := s.r.ReadDir(path.Join(dir, rel))
	if err != nil {
		return
	}
	for _, e := range ents {
		*seen++
		if *seen > backupMaxEntries {
			return
		}
		name := path.Join(rel, e.Name())
		switch {
		case e.IsDir():
			s.newest(dir, name, depth+1, seen, b)
		case e.Type().IsRegular():
			fi, err := e.Info()
			if err != nil {
				continue
			}
			if t := fi.ModTime().UTC(); t.After(b.Newest) {
				b.Newest, b.NewestFile = t, name
			}
		case e.Type()&fs.ModeSymlink != 0:
			// Links are not followed: a backup is a file in the location.
		}
	}
}
