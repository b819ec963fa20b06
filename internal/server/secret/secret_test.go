package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBox(t *testing.T) {
	dir := t.TempDir()
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	sealed := b.Seal("alert.secret.ops", []byte("hunter2"))
	if strings.Contains(sealed, "hunter2") {
		t.Fatal("sealed value contains the plaintext")
	}
	b2, err := LoadOrCreate(dir) // the same key on restart
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open("alert.secret.ops", sealed)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := b2.Open("alert.secret.other", sealed); err == nil {
		t.Error("a value sealed for one label opened under another")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := b2.Open("alert.secret.ops", tampered); err == nil {
		t.Error("tampered value opened")
	}
	if b.Hash("tok") != b2.Hash("tok") || b.Hash("tok") == b.Hash("tok2") {
		t.Error("token hash is not a deterministic function of the token")
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Error("a world-readable key file was accepted")
	}
	if a, c := Token("rt_"), Token("rt_"); a == c || len(a) < 40 {
		t.Errorf("tokens %q %q", a, c)
	}
}

func FuzzOpen(f *testing.F) {
	b, err := New(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Seal("l", []byte("x")))
	f.Add("v1:")
	f.Add("v1:!!!!")
	f.Add("v2:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		if pt, err := b.Open("l", s); err == nil && string(pt) != "x" {
			t.Fatalf("forged value opened: %q", pt)
		}
	})
}
