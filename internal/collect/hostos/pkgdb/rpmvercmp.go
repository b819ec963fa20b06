package pkgdb

import (
	"strconv"
	"strings"
)

// EVR is an rpm package's epoch, version and release.
type EVR struct {
	// Epoch is 0 when the package has none.
	Epoch   uint64
	Version string
	Release string
}

// ParseEVR reads "[epoch:]version[-release]" (the release is after the
// last hyphen, as rpm splits it). An epoch that is not a number counts as
// 0 and ok is false.
func ParseEVR(s string) (evr EVR, ok bool) {
	ok = true
	if e, rest, found := strings.Cut(s, ":"); found {
		n, err := strconv.ParseUint(e, 10, 64)
		if err != nil && e != "" {
			ok = false
		}
		evr.Epoch, s = n, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		evr.Version, evr.Release = s[:i], s[i+1:]
	} else {
		evr.Version = s
	}
	return evr, ok
}

// ParseEpoch reads an epoch attribute ("" and "0" are 0).
func ParseEpoch(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return n
}

// String is "version-release", prefixed with "epoch:" when the epoch is
// not 0 (as `rpm -q --qf '%{EVR}'` prints it).
func (e EVR) String() string {
	s := e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	if e.Epoch != 0 {
		s = strconv.FormatUint(e.Epoch, 10) + ":" + s
	}
	return s
}

// Compare orders two EVRs as rpm does: epoch as a number, then version and
// release with RPMVerCmp. It returns -1, 0 or 1.
func (e EVR) Compare(o EVR) int {
	switch {
	case e.Epoch < o.Epoch:
		return -1
	case e.Epoch > o.Epoch:
		return 1
	}
	if c := RPMVerCmp(e.Version, o.Version); c != 0 {
		return c
	}
	return RPMVerCmp(e.Release, o.Release)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// RPMVerCmp compares two version (or release) strings with rpm's
// rpmvercmp rules and returns -1, 0 or 1:
//   - the strings are split into runs of ASCII digits and runs of ASCII
//     letters; every other byte only separates runs;
//   - "~" sorts before anything, even the end of the string (1.0~rc1 < 1.0);
//   - "^" sorts after the end of the string but before anything else
//     (1.0 < 1.0^git1 < 1.0.1);
//   - digit runs compare as numbers (leading zeros ignored), letter runs
//     byte-wise, and a digit run is newer than a letter run;
//   - when one string runs out, the one with something left is newer.
func RPMVerCmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := at(a, i), at(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case i == len(a):
				return -1
			case j == len(b):
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}
		ei, ej := i, j
		num := isDigit(a[i])
		if num {
			for ei < len(a) && isDigit(a[ei]) {
				ei++
			}
			for ej < len(b) && isDigit(b[ej]) {
				ej++
			}
		} else {
			for ei < len(a) && isAlpha(a[ei]) {
				ei++
			}
			for ej < len(b) && isAlpha(b[ej]) {
				ej++
			}
		}
		if ej == j {
			// Different kinds of run: a number is newer than letters.
			if num {
				return 1
			}
			return -1
		}
		sa, sb := a[i:ei], b[j:ej]
		if num {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				if len(sa) > len(sb) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		i, j = ei, ej
	}
	switch {
	case i == len(a) && j == len(b):
		return 0
	case i == len(a):
		return -1
	}
	return 1
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
