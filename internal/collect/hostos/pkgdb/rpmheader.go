package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// rpm header tags and types read (rpm's rpmtag.h).
const (
	tagName    = 1000
	tagVersion = 1001
	tagRelease = 1002
	tagEpoch   = 1003
	tagArch    = 1022

	typeInt32  = 4
	typeString = 6
)

// Bounds rpm itself puts on a header (lib/header.c: hdrchkTags,
// hdrchkData).
const (
	maxHeaderTags = 0xffff
	maxHeaderData = 256 << 20
)

// RPMPackage is one installed rpm package.
type RPMPackage struct {
	Name string
	// Arch is empty when unknown (`rpm -qa` output without it); gpg-pubkey
	// entries have "(none)" or "".
	Arch string
	EVR  EVR
}

// Why rpm's header blob is read here and not by a library: the
// maintained reader, github.com/anchore/go-rpmdb (v0.2.2; the module proxy
// serves knqyf263/go-rpmdb only as of 2021, Berkeley DB alone), covers
// rpm's three database formats but is not fit to read an image rampart
// does not trust. It opens files by operating-system path, outside the
// root rampart reads an image through (a link in the image could lead out
// of it); its readers take no context and run in goroutines of their own,
// so a panic there cannot be recovered and a reader whose consumer stopped
// at a bad header stays blocked; and its Berkeley DB reader indexes pages
// with offsets from the file unchecked (a panic) and loops without end on
// an overflow chain that reaches a page of another type. The SQLite
// database (rpm 4.16 and later) is read here through database/sql and
// modernc's SQLite, confined to the root, read-only and immutable
// (package rpmsqlite); what remains is this header format: a count, index
// entries and a data area, about sixty lines, bounded as rpm bounds it,
// fuzzed (FuzzRPMHeader, with a round trip) and checked against databases rpm itself
// wrote (rpmsqlite's TestDatabaseRPMWrote). Berkeley DB and NDB databases
// are not read as files: the collector says so and, on the live host, asks
// rpm -qa.

// ParseRPMHeader reads name, epoch, version, release and arch from an rpm
// header blob as the rpm database stores it: no magic, a big-endian count
// of index entries and of data bytes, the entries (tag, type, offset,
// count; 16 bytes each), then the data.
func ParseRPMHeader(blob []byte) (RPMPackage, error) {
	var p RPMPackage
	if len(blob) < 8 {
		return p, errors.New("rpm header shorter than its preamble")
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il == 0 || il > maxHeaderTags || dl > maxHeaderData {
		return p, fmt.Errorf("rpm header with %d tags and %d data bytes", il, dl)
	}
	start := 8 + 16*uint64(il)
	if uint64(len(blob)) < start+uint64(dl) {
		return p, fmt.Errorf("rpm header truncated: %d bytes, %d needed", len(blob), start+uint64(dl))
	}
	data := blob[start : start+uint64(dl)]
	str := func(off uint32) (string, error) {
		if off >= uint32(len(data)) {
			return "", fmt.Errorf("string at %d beyond %d data bytes", off, len(data))
		}
		end := bytes.IndexByte(data[off:], 0)
		if end < 0 {
			return "", fmt.Errorf("string at %d not terminated", off)
		}
		return string(data[off : off+uint32(end)]), nil
	}
	for i := uint32(0); i < il; i++ {
		e := blob[8+16*i : 8+16*(i+1)]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		count := binary.BigEndian.Uint32(e[12:16])
		var dst *string
		switch tag {
		case tagName:
			dst = &p.Name
		case tagVersion:
			dst = &p.EVR.Version
		case tagRelease:
			dst = &p.EVR.Release
		case tagArch:
			dst = &p.Arch
		case tagEpoch:
			if typ != typeInt32 || count < 1 || uint64(off)+4 > uint64(len(data)) {
				return p, fmt.Errorf("malformed epoch entry (type %d, offset %d)", typ, off)
			}
			p.EVR.Epoch = uint64(binary.BigEndian.Uint32(data[off : off+4]))
			continue
		default:
			continue
		}
		if typ != typeString {
			return p, fmt.Errorf("tag %d has type %d, not a string", tag, typ)
		}
		s, err := str(off)
		if err != nil {
			return p, fmt.Errorf("tag %d: %w", tag, err)
		}
		*dst = s
	}
	if p.Name == "" || p.EVR.Version == "" {
		return p, errors.New("rpm header without a name or version")
	}
	return p, nil
}
