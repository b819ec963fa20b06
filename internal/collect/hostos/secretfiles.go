package hostos

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/facts"
)

// homeGlobs are where WSO2 products are usually installed; each names the
// deployment.toml of a home (IS and API-M: repository/conf, MI: conf).
var homeGlobs = []string{
	"/opt/*/repository/conf/deployment.toml", "/opt/*/*/repository/conf/deployment.toml",
	"/opt/*/conf/deployment.toml", "/opt/*/*/conf/deployment.toml",
	"/usr/lib/wso2/*/*/repository/conf/deployment.toml", "/usr/lib/wso2/*/*/conf/deployment.toml",
	"/home/*/*/repository/conf/deployment.toml", "/home/*/*/conf/deployment.toml",
	"/srv/*/repository/conf/deployment.toml", "/srv/*/conf/deployment.toml",
}

// secretGlobs are a home's sensitive files, relative to it, by kind.
var secretGlobs = []struct{ glob, kind string }{
	{"repository/conf/deployment.toml", "config"},
	{"conf/deployment.toml", "config"},
	{"repository/conf/user-mgt.xml", "config"},
	{"repository/conf/datasources/*.xml", "config"},
	{"conf/datasources/*.xml", "config"},
	{"repository/conf/security/secret-conf.properties", "secret"},
	{"repository/conf/security/cipher-text.properties", "secret"},
	{"conf/security/secret-conf.properties", "secret"},
	{"conf/security/cipher-text.properties", "secret"},
	{"password-tmp", "secret"},
	{"password-persist", "secret"},
	{"repository/resources/security/*.jks", "keystore"},
	{"repository/resources/security/*.p12", "keystore"},
	{"repository/resources/security/*.pfx", "keystore"},
	{"repository/resources/security/*.jceks", "keystore"},
	{"repository/resources/security/*.key", "secret"},
}

// maxSecretFiles bounds the files listed for one home.
const maxSecretFiles = 500

func (s *scan) discoverHomes() {
	for _, g := range homeGlobs {
		m, _ := s.r.Glob(g)
		for _, f := range m {
			home := path.Dir(path.Dir(f))
			if strings.HasSuffix(path.Dir(f), "/repository/conf") {
				home = path.Dir(home)
			}
			if strings.HasSuffix(f, "/conf/deployment.toml") && !strings.HasSuffix(f, "/repository/conf/deployment.toml") &&
				!s.r.Exists(path.Join(home, "repository")) {
				continue // a conf/deployment.toml of something that is not MI
			}
			s.addHome(home)
		}
	}
}

// secretFiles lists the permissions of the products' secret files.
func (s *scan) secretFiles() {
	s.discoverHomes()
	users, _ := procfs.Passwd(s.r)
	groups := readGroups(s.r)
	for _, home := range s.h.ProductHomes {
		n := 0
		for _, sg := range secretGlobs {
			m, _ := s.r.Glob(path.Join(home, sg.glob))
			for _, f := range m {
				if n >= maxSecretFiles {
					break
				}
				fi, err := s.r.Stat(f)
				if err != nil || !fi.Mode().IsRegular() {
					continue
				}
				n++
				s.h.SecretFiles = append(s.h.SecretFiles, fileMode(f, sg.kind, fi, users, groups))
			}
		}
	}
}

func fileMode(p, kind string, fi fs.FileInfo, users map[int]procfs.User, groups map[int]string) facts.FileMode {
	perm := fi.Mode().Perm()
	fm := facts.FileMode{
		Path: p, Kind: kind, Mode: fmt.Sprintf("%04o", uint32(perm)),
		WorldReadable: perm&0o004 != 0, GroupReadable: perm&0o040 != 0,
		Origin: facts.Origin{File: p},
	}
	uid, gid := rootfs.Owner(fi)
	if uid >= 0 {
		fm.Owner = strconv.Itoa(uid)
		if u, ok := users[uid]; ok {
			fm.Owner = u.Name
		}
		fm.Group = strconv.Itoa(gid)
		if g, ok := groups[gid]; ok {
			fm.Group = g
		}
	}
	return fm
}

// readGroups parses /etc/group: gid to name.
func readGroups(r *rootfs.Root) map[int]string {
	out := map[int]string{}
	b, err := r.ReadFile("/etc/group", 8<<20)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		if gid, err := strconv.Atoi(f[2]); err == nil {
			if _, dup := out[gid]; !dup {
				out[gid] = f[0]
			}
		}
	}
	return out
}
