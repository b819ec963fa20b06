// Package web holds the dashboard's templates and static files, embedded
// in the binary (no build step at run time). The target view and the
// style sheet are the HTML report's (internal/report), so the dashboard
// and the report look alike.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/report"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/textsafe"
)

//go:embed templates/*.tmpl static/*
var files embed.FS

// Pages renders the dashboard's pages.
type Pages struct {
	t   *template.Template
	css []byte
}

// Page is what every page template gets.
type Page struct {
	Title string
	// Nav is the active section: fleet, runs, findings, exceptions,
	// monitor, tokens, users, audit, account.
	Nav  string
	User string
	// Role is the signed-in user's role; Admin is true for admins, who
	// see the controls that change things.
	Role  string
	Admin bool
	// CSRF is the anti-forgery token every form posts back.
	CSRF  string
	Flash string
	OK    string
	Data  any
	// SSO labels the sign-in page's single sign-on button ("": none).
	SSO string
	// Refresh sends the browser on to this same-site path at once.
	Refresh string
}

// New parses the templates.
func New() (*Pages, error) {
	t, err := report.HTMLTemplates().Clone()
	if err != nil {
		return nil, err
	}
	t = t.Funcs(template.FuncMap{
		"daysLeft": func(t time.Time) int { return int(time.Until(t).Hours() / 24) },
		"ms":       func(d time.Duration) int64 { return d.Milliseconds() },
		"dur": func(d time.Duration) string {
			if d < time.Second {
				return fmt.Sprintf("%d ms", d.Milliseconds())
			}
			return d.Round(100 * time.Millisecond).String()
		},
		"lower": strings.ToLower,
		// daysAgo words a negative day count (an expiry in the past).
		"daysAgo": func(days int) string {
			switch {
			case days >= 0:
				return "today"
			case days == -1:
				return "1 day ago"
			}
			return fmt.Sprintf("%d days ago", -days)
		},
		"st": func(s string) finding.Status { return finding.Status(s) },
		"view": func(r store.Record) report.FindingView {
			fv := report.FindingView{Finding: r.Finding, FixedAt: r.FixedAt}
			if !r.FirstSeen.IsZero() {
				first, last := r.FirstSeen, r.LastSeen
				fv.FirstSeen, fv.LastSeen = &first, &last
			}
			return fv
		},
	})
	t, err = t.ParseFS(files, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	extra, err := files.ReadFile("static/dashboard.css")
	if err != nil {
		return nil, err
	}
	css := append([]byte(report.CSS()), '\n')
	css = append(css, extra...)
	return &Pages{t: t, css: css}, nil
}

// Render executes a page into w; the page is rendered to memory first so
// a template error never leaves half a page, and invisible or
// direction-changing characters in it are made visible (textsafe).
func (p *Pages) Render(w http.ResponseWriter, status int, name string, page Page) error {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, page); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(textsafe.NeutralizeBytes(b.Bytes()))
	return err
}

// Static serves /static/style.css and /static/favicon.svg.
func (p *Pages) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/static/") {
		case "style.css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=3600")
			_, _ = w.Write(p.css)
		case "favicon.svg":
			b, _ := files.ReadFile("static/favicon.svg")
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Cache-Control", "public, max-age=86400")
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	})
}
