package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every form that posts carries the anti-forgery token: a form added
// without it fails here before the server refuses it at run time.
func TestEveryPostFormHasCSRF(t *testing.T) {
	form := regexp.MustCompile(`(?s)<form\b[^>]*>.*?</form>`)
	n := 0
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range form.FindAllString(string(b), -1) {
			open := f[:strings.Index(f, ">")+1]
			if !strings.Contains(strings.ToLower(open), `method="post"`) {
				continue
			}
			n++
			if !strings.Contains(f, `{{template "csrf"`) {
				t.Errorf("%s: a post form without the csrf field: %s", path, open)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("found %d post forms; the pattern no longer matches the templates", n)
	}
}
