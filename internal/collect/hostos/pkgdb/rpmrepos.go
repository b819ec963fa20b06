package pkgdb

import (
	"path"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// repoCache is one repository's metadata as a package tool cached it.
type repoCache struct {
	ID   string
	Tool string // dnf, dnf5, yum, zypper
	// RepoMD is the in-root path of repomd.xml.
	RepoMD string
}

// cacheLayouts are where dnf, dnf5, yum and zypper keep each repository's
// downloaded metadata (repomd.xml and the files it lists), and how the
// repository id is told from the directory name.
var cacheLayouts = []struct {
	tool, glob string
	// idDepth: the repository's directory is this many levels above
	// repomd.xml.
	idDepth int
	// hashed: the directory is "<id>-<16 hex digits>".
	hashed bool
}{
	{"dnf", "/var/cache/dnf/*/repodata/repomd.xml", 2, true},
	{"dnf5", "/var/cache/libdnf5/*/repodata/repomd.xml", 2, true},
	{"yum", "/var/cache/yum/*/*/*/repomd.xml", 1, false},
	{"zypper", "/var/cache/zypp/raw/*/repodata/repomd.xml", 2, false},
}

// trimCacheHash drops the "-<16 hex digits>" dnf appends to a repository
// id to name its cache directory.
func trimCacheHash(dir string) string {
	const n = 16
	if len(dir) <= n+1 || dir[len(dir)-n-1] != '-' {
		return dir
	}
	for _, c := range dir[len(dir)-n:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return dir
		}
	}
	return dir[:len(dir)-n-1]
}

// findRepoCaches lists the cached repositories, each once (a cache
// directory reached through a link, as /var/cache/yum on some releases, is
// not counted twice).
func findRepoCaches(r *rootfs.Root) []repoCache {
	var out []repoCache
	seen := map[string]bool{}
	for _, l := range cacheLayouts {
		matches, _ := r.Glob(l.glob)
		for _, m := range matches {
			real, err := r.Resolve(m)
			if err != nil || seen[real] {
				continue
			}
			seen[real] = true
			dir := m
			for range l.idDepth {
				dir = path.Dir(dir)
			}
			id := path.Base(dir)
			if l.hashed {
				id = trimCacheHash(id)
			}
			out = append(out, repoCache{ID: id, Tool: l.tool, RepoMD: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RepoMD < out[j].RepoMD })
	return out
}

// repoConfigDirs hold the repository definitions of dnf and yum
// (/etc/yum.repos.d; dnf5 adds the other two) and of zypper.
var repoConfigDirs = []string{"/etc/yum.repos.d", "/etc/distro.repos.d", "/usr/share/dnf5/repos.d", "/etc/zypp/repos.d"}

// repoConfig reads every .repo file: which repositories are defined and
// which of them are enabled (enabled=1 is the default).
func repoConfig(r *rootfs.Root) (enabled map[string]bool, files []string) {
	enabled = map[string]bool{}
	for _, dir := range repoConfigDirs {
		ents, err := r.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".repo") {
				continue
			}
			p := path.Join(dir, e.Name())
			b, err := r.ReadFile(p, 4<<20)
			if err != nil {
				continue
			}
			files = append(files, p)
			for id, kv := range parseINI(string(b)) {
				if id == "main" {
					continue
				}
				enabled[id] = enabled[id] || isTrue(kv["enabled"], true)
			}
		}
	}
	return enabled, files
}

// enabledModules reads dnf's module states (/etc/dnf/modules.d/*.module):
// "name:stream" for every enabled stream.
func enabledModules(r *rootfs.Root) map[string]bool {
	out := map[string]bool{}
	const dir = "/etc/dnf/modules.d"
	ents, err := r.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".module") {
			continue
		}
		b, err := r.ReadFile(path.Join(dir, e.Name()), 1<<20)
		if err != nil {
			continue
		}
		for sec, kv := range parseINI(string(b)) {
			name := kv["name"]
			if name == "" {
				name = sec
			}
			if strings.EqualFold(kv["state"], "enabled") && kv["stream"] != "" {
				out[name+":"+kv["stream"]] = true
			}
		}
	}
	return out
}

// parseINI reads [section] key=value files (the .repo and .module
// format); keys are lower-cased, later values win.
func parseINI(s string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			name := strings.TrimSpace(line[1 : len(line)-1])
			if out[name] == nil {
				out[name] = map[string]string{}
			}
			cur = out[name]
		case cur != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

func isTrue(v string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true
	case "0", "no", "false", "off":
		return false
	}
	return def
}

// fileAge is a file's modification time: when dnf, yum or zypper last
// fetched or revalidated the metadata (dnf touches repomd.xml when it
// finds the mirror's copy unchanged).
func fileAge(r *rootfs.Root, p string) (time.Time, bool) {
	fi, err := r.Stat(p)
	if err != nil {
		return time.Time{}, false
	}
	return fi.ModTime().UTC(), true
}
