package target

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func mkHome(t *testing.T, dir, marker string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(marker))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("[server]\nhostname = \"localhost\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckHome: a product home passes; its parent, its repository/ and
// conf/, and an empty folder are refused with where the home is.
func TestCheckHome(t *testing.T) {
	base := t.TempDir()
	am := filepath.Join(base, "opt", "wso2am-4.1.0")
	mi := filepath.Join(base, "opt", "wso2mi-4.3.0")
	mkHome(t, am, "repository/conf/deployment.toml")
	mkHome(t, mi, "conf/deployment.toml")
	if err := os.MkdirAll(filepath.Join(am, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	unpacked := filepath.Join(base, "download")
	mkHome(t, filepath.Join(unpacked, "wso2is-7.1.0"), "repository/conf/deployment.toml")

	for _, ok := range []string{am, mi} {
		if err := CheckHome(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, c := range []struct {
		dir, want string
		empty     bool
	}{
		{filepath.Join(am, "repository"), "did you mean " + am + "?", false},
		{filepath.Join(am, "repository", "conf"), "did you mean " + am + "?", false},
		{filepath.Join(am, "bin"), "did you mean " + am + "?", false},
		{filepath.Join(mi, "conf"), "did you mean " + mi + "?", false},
		{filepath.Join(base, "opt"), "did you mean one of " + am + ", " + mi + "?", false},
		{unpacked, "did you mean " + filepath.Join(unpacked, "wso2is-7.1.0") + "?", false},
		{empty, "the directory is empty", true},
	} {
		err := CheckHome(c.dir)
		var nh *NotHomeError
		if !errors.As(err, &nh) || !strings.Contains(err.Error(), "not a product home") || !strings.Contains(err.Error(), c.want) || nh.Empty != c.empty {
			t.Errorf("%s: %v, want %q", c.dir, err, c.want)
		}
	}
}

// TestCheckHomeBounded: a directory of many entries is searched only so
// far, and an unreadable one is simply not a home.
func TestCheckHomeBounded(t *testing.T) {
	base := t.TempDir()
	for i := range maxHomeEntries + 50 {
		if err := os.Mkdir(filepath.Join(base, "d"+strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := CheckHome(base)
	if err == nil || !strings.Contains(err.Error(), "not a product home") {
		t.Fatalf("%v", err)
	}
	if err := CheckHome(filepath.Join(base, "missing")); err == nil {
		t.Fatal("a missing directory passed")
	}
}
