package alert

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/textsafe"
)

// Payload renders an event in a destination's format. Invisible and
// direction-changing characters in its text (a target named to mislead)
// are made visible.
func Payload(format string, e Event) ([]byte, error) {
	var b []byte
	var err error
	if format == "slack" {
		b, err = slackPayload(e)
	} else {
		b, err = json.Marshal(struct {
			Schema string `json:"schema"`
			Event
		}{Schema: "rampart.alert/v1", Event: e})
	}
	if err != nil {
		return nil, err
	}
	return textsafe.NeutralizeBytes(b), nil
}

// kindEmoji is the Slack emoji an event of kind starts with.
func kindEmoji(kind string) string {
	switch kind {
	case KindNewFailure:
		return ":red_circle:"
	case KindFixed:
		return ":white_check_mark:"
	case KindCertExpiring:
		return ":hourglass:"
	case KindNewPort:
		return ":door:"
	case KindHealthDown:
		return ":rotating_light:"
	case KindHealthSlow:
		return ":turtle:"
	}
	return ""
}

// slackPayload is a Slack incoming-webhook message (text plus blocks),
// which Mattermost and Rocket.Chat also accept.
func slackPayload(e Event) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s *%s*", kindEmoji(e.Kind), esc(e.Title))
	if e.Severity != "" {
		fmt.Fprintf(&b, " (%s)", e.Severity)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, "\n%s", esc(e.Message))
	}
	if e.Remediation != "" {
		fmt.Fprintf(&b, "\n_Fix:_ %s", esc(firstLine(e.Remediation)))
	}
	if e.Link != "" {
		fmt.Fprintf(&b, "\n<%s|Open in rampart>", e.Link)
	}
	text := b.String()
	msg := map[string]any{
		"text": text,
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}},
			map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": "rampart · " + e.Kind + " · key " + e.Key}}},
		},
	}
	return json.Marshal(msg)
}

// esc escapes the three characters Slack's mrkdwn treats as control.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
