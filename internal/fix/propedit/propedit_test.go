package propedit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/wso2/log4j"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func TestReplaceLastDefinitionKeepSeparator(t *testing.T) {
	src := "# c\nhttp.origin-server=old\nfoo : bar\nhttp.origin-server = WSO2-PassThrough-HTTP\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("http.origin-server", "WebServer", "HTTP-001")
	out, recs, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := "# c\nhttp.origin-server=old\nfoo : bar\nhttp.origin-server = WebServer\n"
	if string(out) != want {
		t.Fatalf("got %q", out)
	}
	if len(recs) != 1 || recs[0].OldFirst != 4 || recs[0].Rule != "HTTP-001" {
		t.Fatalf("%+v", recs)
	}
}

func TestAppendInDominantStyle(t *testing.T) {
	src := "a = 1\r\nb = 2\r\nc=3"
	d, _ := Parse([]byte(src))
	d.Set("http.origin-server", "WebServer", "HTTP-001")
	out, _, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "a = 1\r\nb = 2\r\nc=3\r\nhttp.origin-server = WebServer\r\n" {
		t.Fatalf("got %q", out)
	}
}

func TestContinuationLines(t *testing.T) {
	src := "appender.X.layout.pattern = [%d] \\\n    %m%n\nnext = 1\n"
	d, _ := Parse([]byte(src))
	v, line, ok := d.Get("appender.X.layout.pattern")
	if !ok || v != "[%d] %m%n" || line != 1 {
		t.Fatalf("got %q %d %v", v, line, ok)
	}
	d.Set("appender.X.layout.pattern", "[%u] "+v, "LOG-002")
	out, _, _ := d.Render()
	if string(out) != "appender.X.layout.pattern = [%u] [%d] %m%n\nnext = 1\n" {
		t.Fatalf("got %q", out)
	}
}

// TestLog4jFixtures: prefixing every layout of the real log4j2.properties
// files changes exactly those values, as log4j's own reading sees them.
func TestLog4jFixtures(t *testing.T) {
	fx := filepath.Join(testenv.Shared(t), "fixtures", "wso2")
	files, _ := filepath.Glob(filepath.Join(fx, "*", "repository", "conf", "log4j2.properties"))
	more, _ := filepath.Glob(filepath.Join(fx, "*", "conf", "log4j2.properties"))
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found %d log4j2.properties fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		before := lastValues(log4j.ParseProperties(b))
		changed := map[string]string{}
		for _, k := range d.Keys() {
			if strings.HasSuffix(k, ".layout.pattern") {
				v, _, _ := d.Get(k)
				changed[k] = "[%u] " + v
				d.Set(k, changed[k], "LOG-002")
			}
		}
		if len(changed) == 0 {
			t.Fatalf("%s: no layout patterns", f)
		}
		out, recs, err := d.Render()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(changed) {
			t.Errorf("%s: %d records for %d changes", f, len(recs), len(changed))
		}
		after := lastValues(log4j.ParseProperties(out))
		for k, v := range before {
			want := v
			if c, ok := changed[k]; ok {
				want = c
			}
			if after[k] != want {
				t.Errorf("%s: %s = %q, want %q", f, k, after[k], want)
			}
		}
	}
}

func lastValues(ps []log4j.Prop) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Key] = p.Value
	}
	return m
}

func FuzzEdit(f *testing.F) {
	f.Add([]byte("a=1\nb : 2\\\n  3\n# c\n"))
	f.Add([]byte("x\\ y = z\r\n!c\r\nk\tv"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		keys := d.Keys()
		d.Set("new.key", " v\\a\n", "R")
		if len(keys) > 0 {
			d.Set(keys[0], "x=y", "R")
		}
		out, _, err := d.Render()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, ok := d2.Get("new.key"); !ok || v != " v\\a\n" {
			t.Fatalf("new.key read back as %q (%v) from %q", v, ok, out)
		}
		if len(keys) > 0 && keys[0] != "new.key" {
			if v, _, _ := d2.Get(keys[0]); v != "x=y" {
				t.Fatalf("%s read back as %q from %q", keys[0], v, out)
			}
		}
	})
}
