package fix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tree writes files under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

func planOf(t *testing.T, dir string) []*Change {
	t.Helper()
	ws := NewWorkspace("t", dir)
	d, err := ws.TOML("conf/deployment.toml")
	if err != nil {
		t.Fatal(err)
	}
	d.Set("server", "hostname", "h.example.com", "NET-007")
	p, err := ws.Props("conf/log4j2.properties")
	if err != nil {
		t.Fatal(err)
	}
	p.Set("appender.A.layout.pattern", "[%u] %m%n", "LOG-002")
	if err := ws.Write("security/new.p12", []byte{0x30, 1, 2}, 0o600, true, "KEY-001", "a keystore"); err != nil {
		t.Fatal(err)
	}
	cs, err := ws.Changes()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("%d changes", len(cs))
	}
	return cs
}

var files = map[string]string{
	"conf/deployment.toml":   "[server]\nhostname = \"localhost\"\n",
	"conf/log4j2.properties": "appender.A.layout.pattern = %m%n\n",
}

func TestApplyBackupsModesAndUndo(t *testing.T) {
	dir := tree(t, files)
	before := listing(t, dir)
	res, err := Apply(planOf(t, dir), now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stamp != "20260301T120000" || len(res.Backups) != 2 || len(res.Written) != 3 {
		t.Fatalf("%+v", res)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "conf/deployment.toml"))
	if string(b) != "[server]\nhostname = \"h.example.com\"\n" {
		t.Fatalf("%q", b)
	}
	fi, _ := os.Stat(filepath.Join(dir, "conf/deployment.toml"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
	}
	fi, _ = os.Stat(filepath.Join(dir, "security/new.p12"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new keystore mode %v", fi.Mode().Perm())
	}
	if bk, _ := os.ReadFile(filepath.Join(dir, "conf/deployment.toml.rampart-20260301T120000")); string(bk) != files["conf/deployment.toml"] {
		t.Errorf("backup holds %q", bk)
	}
	// Undo refuses a file changed after the run, and then restores all.
	os.WriteFile(filepath.Join(dir, "conf/log4j2.properties"), []byte("edited by hand\n"), 0o640)
	if _, err := Undo(dir, res.Stamp); err == nil || !strings.Contains(err.Error(), "changed since the fix was applied") {
		t.Fatalf("undo over a hand edit: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "conf/log4j2.properties"), []byte("appender.A.layout.pattern = [%u] %m%n\n"), 0o640)
	if _, err := Undo(dir, res.Stamp); err != nil {
		t.Fatal(err)
	}
	after := listing(t, dir)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s not restored", k)
		}
	}
	if len(after) != len(before) {
		t.Errorf("undo left %d files, want %d: %v", len(after), len(before), after)
	}
}

// TestApplyIsAllOrNothing: a file changed since it was scanned, a
// read-only file, or a file created meanwhile refuses the whole run and
// leaves every file as it was (no backup, no temporary file).
func TestApplyIsAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		spoil      func(dir string)
	}{
		{"changed on disk", "changed on disk since it was scanned", func(dir string) {
			os.WriteFile(filepath.Join(dir, "conf/deployment.toml"), []byte("[server]\nhostname = \"other\"\n"), 0o640)
		}},
		{"read-only", "read-only", func(dir string) {
			os.Chmod(filepath.Join(dir, "conf/log4j2.properties"), 0o444)
		}},
		{"created meanwhile", "exists now", func(dir string) {
			os.WriteFile(filepath.Join(dir, "security/new.p12"), []byte("x"), 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, files)
			cs := planOf(t, dir)
			os.MkdirAll(filepath.Join(dir, "security"), 0o755)
			tc.spoil(dir)
			before := listing(t, dir)
			_, err := Apply(cs, now)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("got %v", err)
			}
			after := listing(t, dir)
			if len(after) != len(before) {
				t.Errorf("files appeared: %v", after)
			}
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed", k)
				}
			}
		})
	}
}

func TestUndoBadStamp(t *testing.T) {
	dir := tree(t, files)
	if _, err := Undo(dir, "20260301T120000"); err == nil || !strings.Contains(err.Error(), "no fix was applied here") {
		t.Fatalf("%v", err)
	}
	if _, err := Undo(dir, "../../etc"); err == nil {
		t.Fatal("a path as stamp was accepted")
	}
}

// TestReadOnlyIsRefusedOnlyWhereContentChanges: a file read-only when
// planned is found by ReadOnly (its mode when read), and RefuseReadOnly
// makes the fixes that change it errors naming it, leaving the others;
// a mode-only change of a read-only file needs no write permission and
// is applied.
func TestReadOnlyIsRefusedOnlyWhereContentChanges(t *testing.T) {
	dir := tree(t, files)
	os.Chmod(filepath.Join(dir, "conf/log4j2.properties"), 0o444)
	os.WriteFile(filepath.Join(dir, "conf/secret.properties"), []byte("x\n"), 0o444)
	cs := planOf(t, dir)
	ws := NewWorkspace("t", dir)
	if err := ws.Chmod("conf/secret.properties", 0o400, "SEC-005", "others lose access"); err != nil {
		t.Fatal(err)
	}
	chmod, err := ws.Changes()
	if err != nil || len(chmod) != 1 || chmod[0].Action != Chmod || chmod[0].ModeBefore != 0o444 {
		t.Fatalf("%v %+v", err, chmod)
	}
	ro := ReadOnly(append(cs, chmod...))
	if len(ro) != 1 || ro[0].Path != "conf/log4j2.properties" || ro[0].ModeBefore != 0o444 {
		t.Fatalf("read-only: %+v", ro)
	}
	p := &Plan{Changes: cs, Results: []Result{
		{Rule: "LOG-002", Target: "t", Status: Fixed, Details: []string{"a UUID leads each line"}},
		{Rule: "NET-007", Target: "t", Status: Fixed, Details: []string{"[server] hostname"}},
	}}
	p.Results[0].Summary = p.Results[0].Details[0]
	if got := p.RefuseReadOnly(); len(got) != 1 {
		t.Fatalf("%+v", got)
	}
	if r := p.Results[0]; r.Status != Failed || r.Summary != "a UUID leads each line; not written: conf/log4j2.properties is read-only (mode 0444)" {
		t.Errorf("LOG-002: %+v", r)
	}
	if p.Results[1].Status != Fixed {
		t.Errorf("NET-007: %+v", p.Results[1])
	}
	if _, err := Apply(chmod, now); err != nil {
		t.Fatalf("a mode change of a read-only file: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "conf/secret.properties")); fi.Mode().Perm() != 0o400 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Do this.  Then that.":                           "Do this.",
		"Set -Xmx in JVM_MEM_OPTS, e.g. `-Xmx2g`. More.": "Set -Xmx in JVM_MEM_OPTS, e.g. `-Xmx2g`.",
		"Use the tool (i.e. keytool) and so on. Rest":    "Use the tool (i.e. keytool) and so on.",
		"no sentence end":                                "no sentence end",
		"ends with e.g. ":                                "ends with e.g.",
		"Trailing dot.":                                  "Trailing dot.",
	} {
		if got := FirstSentence(in); got != want {
			t.Errorf("FirstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
