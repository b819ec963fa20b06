package pkgdb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// maxPrimaryPackage bounds one <package> element of primary.xml (its file
// list is only the few paths dependencies name).
const maxPrimaryPackage = 16 << 20

// scanPrimary reads a repository's primary.xml and records in avail, for
// every package whose name is in names, the newest EVR per name and
// architecture. primary.xml runs to hundreds of megabytes for a
// distribution's main repository, so this is a byte scan of the few fields
// needed (<name>, <arch>, <version epoch ver rel>), not an XML decoding:
// package names, architectures and versions hold no markup characters.
func scanPrimary(rd io.Reader, names map[string]bool, avail map[RPMKey]EVR) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 256<<10), maxPrimaryPackage)
	sc.Split(splitAfter([]byte("</package>")))
	seenRoot := false
	for sc.Scan() {
		blk := sc.Bytes()
		if !seenRoot {
			if !bytes.Contains(blk, []byte("<metadata")) {
				return fmt.Errorf("primary.xml: no <metadata> element")
			}
			seenRoot = true
		}
		name := between(blk, "<name>", "</name>")
		if name == nil || !names[string(name)] {
			continue
		}
		arch := between(blk, "<arch>", "</arch>")
		i := bytes.Index(blk, []byte("<version "))
		if arch == nil || i < 0 {
			continue
		}
		v := blk[i:]
		if j := bytes.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
		evr := EVR{Epoch: ParseEpoch(string(attr(v, "epoch"))), Version: string(attr(v, "ver")), Release: string(attr(v, "rel"))}
		if evr.Version == "" {
			continue
		}
		k := RPMKey{Name: string(name), Arch: string(arch)}
		if old, ok := avail[k]; !ok || evr.Compare(old) > 0 {
			avail[k] = evr
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("primary.xml: %w", err)
	}
	if !seenRoot {
		return fmt.Errorf("primary.xml: empty")
	}
	return nil
}

// splitAfter is a bufio.SplitFunc returning tokens that end with sep (the
// last one may not).
func splitAfter(sep []byte) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, sep); i >= 0 {
			return i + len(sep), data[:i+len(sep)], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}

// between returns the bytes between the first open and the close after
// it, trimmed of white space; nil when either is missing.
func between(b []byte, open, close string) []byte {
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return nil
	}
	b = b[i+len(open):]
	j := bytes.Index(b, []byte(close))
	if j < 0 {
		return nil
	}
	return bytes.TrimSpace(b[:j])
}

// attr returns the value of name="..." in the tag text t.
func attr(t []byte, name string) []byte {
	for off := 0; off < len(t); {
		i := bytes.Index(t[off:], []byte(name+`="`))
		if i < 0 {
			return nil
		}
		i += off
		if i > 0 && t[i-1] != ' ' && t[i-1] != '\t' && t[i-1] != '\n' && t[i-1] != '\r' {
			off = i + len(name)
			continue
		}
		v := t[i+len(name)+2:]
		if j := bytes.IndexByte(v, '"'); j >= 0 {
			return v[:j]
		}
		return nil
	}
	return nil
}
