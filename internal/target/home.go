package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// homeMarkers are the files that make a directory a WSO2 product home: IS
// and API Manager keep deployment.toml under repository/conf, the Micro
// Integrator under conf.
var homeMarkers = []string{"repository/conf/deployment.toml", "conf/deployment.toml"}

// IsHome reports whether dir is a product home. The repository/ directory
// of an IS or API Manager home holds conf/deployment.toml too, but it is not
// a Micro Integrator: its parent is the home.
func IsHome(dir string) bool {
	if isFile(filepath.Join(dir, "repository", "conf", "deployment.toml")) {
		return true
	}
	if !isFile(filepath.Join(dir, "conf", "deployment.toml")) {
		return false
	}
	clean := filepath.Clean(dir)
	return filepath.Base(clean) != "repository" || !isFile(filepath.Join(filepath.Dir(clean), "repository", "conf", "deployment.toml"))
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// NotHomeError says a directory given as a target is not a product home,
// and where one is when rampart can see one nearby.
type NotHomeError struct {
	Dir string
	// Empty: the directory has nothing in it.
	Empty bool
	// Suggestions are product homes nearby: the home this directory is
	// inside of, or homes under it.
	Suggestions []string
}

func (e *NotHomeError) Error() string {
	msg := fmt.Sprintf("%s is not a product home (no %s)", e.Dir, strings.Join(homeMarkers, " or "))
	if e.Empty {
		msg = fmt.Sprintf("%s is not a product home: the directory is empty", e.Dir)
	}
	switch len(e.Suggestions) {
	case 0:
		return msg + "; give the directory the product was unpacked into (the one holding bin/ and repository/ or conf/)"
	case 1:
		return msg + "; did you mean " + e.Suggestions[0] + "?"
	}
	return msg + "; did you mean one of " + strings.Join(e.Suggestions, ", ") + "?"
}

// Bounds of the search for nearby homes: a directory with a huge number
// of entries (a whole /opt, a mount point) costs no more than this.
const (
	maxHomeAncestors = 4
	maxHomeEntries   = 512
	maxHomeDepth     = 2
	maxSuggestions   = 5
)

// CheckHome returns nil when dir is a product home, else a *NotHomeError
// naming the product home dir is part of (its repository/ or conf/, a
// subdirectory) or the homes found under it (its parent, an unpacked
// archive's top directory).
func CheckHome(dir string) error {
	if IsHome(dir) {
		return nil
	}
	e := &NotHomeError{Dir: dir}
	// Inside a home: repository/, repository/conf, conf/, bin/ ...
	up := dir
	for range maxHomeAncestors {
		parent := filepath.Dir(up)
		if parent == up {
			break
		}
		up = parent
		if IsHome(up) {
			e.Suggestions = []string{up}
			return e
		}
	}
	// Above homes: /opt holding wso2am-4.1.0, an archive's top directory.
	e.Suggestions = homesUnder(dir, maxHomeDepth)
	if len(e.Suggestions) == 0 {
		if names, err := readNames(dir, 1); err == nil && len(names) == 0 {
			e.Empty = true
		}
	}
	return e
}

// homesUnder lists product homes in dir's subdirectories, depth levels
// down at most, sorted, no more than maxSuggestions.
func homesUnder(dir string, depth int) []string {
	if depth == 0 {
		return nil
	}
	names, err := readNames(dir, maxHomeEntries)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		sub := filepath.Join(dir, n)
		fi, err := os.Stat(sub)
		if err != nil || !fi.IsDir() {
			continue
		}
		if IsHome(sub) {
			out = append(out, sub)
		} else {
			out = append(out, homesUnder(sub, depth-1)...)
		}
		if len(out) >= maxSuggestions {
			break
		}
	}
	sort.Strings(out)
	if len(out) > maxSuggestions {
		out = out[:maxSuggestions]
	}
	return out
}

// readNames reads at most n entry names of dir, sorted.
func readNames(dir string, n int) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
