// Package alert turns drift and health changes into alerts and delivers
// them to webhooks: a generic JSON payload or a Slack-compatible one,
// signed with HMAC-SHA256, each with an idempotency key. Alerts wait in
// the store's outbox until a destination accepts them, retried with
// backoff, so none is lost while a destination is down.
package alert

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Kinds of alert.
const (
	KindNewFailure   = "new_failure"
	KindFixed        = "fixed"
	KindCertExpiring = "cert_expiring"
	KindNewPort      = "new_port"
	KindHealthDown   = "health_down"
	KindHealthSlow   = "health_slow"
)

// Kinds lists every alert kind.
func Kinds() []string {
	return []string{KindNewFailure, KindFixed, KindCertExpiring, KindNewPort, KindHealthDown, KindHealthSlow}
}

// Destination is one webhook.
type Destination struct {
	Name string `yaml:"name"`
	// URL (or URLFile, a file holding it) is where alerts are posted. It
	// may be a credential (a Slack-style path, a token in the query): the
	// server keeps it encrypted in its store, shows it to admins only and
	// redacts it everywhere else. With neither, the URL stored at an
	// earlier start is used.
	URL     string `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// Format is generic (default) or slack.
	Format string `yaml:"format"`
	// Secret (or SecretFile) is the HMAC-SHA256 key for the
	// X-Rampart-Signature header.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// CAFile is a PEM bundle to trust for this destination's certificate.
	CAFile string `yaml:"ca_file"`
	// Kinds limits the alert kinds sent (default all).
	Kinds []string `yaml:"kinds"`
	// MinSeverity drops finding alerts below it (default info).
	MinSeverity string `yaml:"min_severity"`
}

// Validate checks the destination. Plain http:// is accepted only for
// loopback receivers.
func (d *Destination) Validate() error {
	var probs []string
	if d.Name == "" {
		probs = append(probs, "needs a name")
	}
	switch {
	case d.URL != "" && d.URLFile != "":
		probs = append(probs, "give url or url_file, not both")
	case d.URL != "":
		if err := CheckURL(d.URL); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if d.Format == "" {
		d.Format = "generic"
	}
	if d.Format != "generic" && d.Format != "slack" {
		probs = append(probs, fmt.Sprintf("format %q: want generic or slack", d.Format))
	}
	if d.Secret != "" && d.SecretFile != "" {
		probs = append(probs, "give secret or secret_file, not both")
	}
	for _, k := range d.Kinds {
		if !slices.Contains(Kinds(), k) {
			probs = append(probs, fmt.Sprintf("kind %q: want one of %s", k, strings.Join(Kinds(), ", ")))
		}
	}
	if d.MinSeverity != "" {
		if _, err := finding.ParseSeverity(d.MinSeverity); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return nil
}

// CheckURL checks a destination URL: https, or plain http to a loopback
// receiver. Its messages show the URL redacted.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("url %s is not a URL", RedactURL(raw))
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("url %s: want https:// (plain http only to a loopback receiver)", RedactURL(raw))
	}
	return nil
}

// LoadURL returns the destination's URL from URL or URLFile ("" with
// neither).
func (d *Destination) LoadURL() (string, error) {
	if d.URLFile == "" {
		return d.URL, nil
	}
	b, err := os.ReadFile(d.URLFile)
	if err != nil {
		return "", fmt.Errorf("destination %s url: %w", d.Name, err)
	}
	u := strings.TrimSpace(string(b))
	if err := CheckURL(u); err != nil {
		return "", fmt.Errorf("destination %s url_file: %w", d.Name, err)
	}
	return u, nil
}

// LoadSecret returns the destination's secret from Secret or SecretFile.
func (d *Destination) LoadSecret() (string, error) {
	if d.SecretFile == "" {
		return d.Secret, nil
	}
	b, err := os.ReadFile(d.SecretFile)
	if err != nil {
		return "", fmt.Errorf("destination %s secret: %w", d.Name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Accepts reports whether the destination wants an event.
func (d *Destination) Accepts(e Event) bool {
	if len(d.Kinds) > 0 && !slices.Contains(d.Kinds, e.Kind) {
		return false
	}
	if d.MinSeverity != "" && e.Severity != "" {
		min, _ := finding.ParseSeverity(d.MinSeverity)
		sev, err := finding.ParseSeverity(e.Severity)
		if err == nil && sev < min {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
