package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Headers sent with every delivery.
const (
	HeaderSignature = "X-Rampart-Signature" // sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
	HeaderTimestamp = "X-Rampart-Timestamp" // Unix seconds
	HeaderKey       = "Idempotency-Key"
	HeaderEvent     = "X-Rampart-Event"
)

// Sign returns the signature header value for a body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header (for receivers and tests), in
// constant time.
func Verify(secret []byte, ts int64, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(header))
}

// Webhook delivers to one destination.
type Webhook struct {
	Dest   Destination
	Secret []byte
	Client *http.Client
	// UserAgent names rampart and its version.
	UserAgent string
	Now       func() time.Time
}

// NewWebhook builds the HTTP client for a destination (TLS 1.2+, the
// destination's CA file when given, a 10 s timeout, no redirects).
func NewWebhook(d Destination, secret []byte, userAgent string) (*Webhook, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.CAFile != "" {
		pem, err := os.ReadFile(d.CAFile)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("destination %s: %s holds no PEM certificate", d.Name, d.CAFile)
		}
		tc.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment, MaxIdleConns: 2, IdleConnTimeout: 30 * time.Second, ForceAttemptHTTP2: true}
	return &Webhook{
		Dest: d, Secret: secret, UserAgent: userAgent,
		Client: &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}, nil
}

// Deliver sends one event body (the generic JSON of an Event). A 4xx
// answer other than 408 and 429, or an event that cannot be rendered, is
// a PermanentError. The error's text never holds the destination's URL
// (it may be a credential): it goes to the log, the outbox and the
// dashboard.
func (w *Webhook) Deliver(ctx context.Context, kind, key string, eventJSON []byte) error {
	err := w.deliver(ctx, kind, key, eventJSON)
	if err == nil {
		return nil
	}
	var p *PermanentError
	if errors.As(err, &p) {
		return &PermanentError{newRedacted(p.Err, w.Dest.URL)}
	}
	return newRedacted(err, w.Dest.URL)
}

func (w *Webhook) deliver(ctx context.Context, kind, key string, eventJSON []byte) error {
	var e Event
	if err := json.Unmarshal(eventJSON, &e); err != nil {
		return &PermanentError{fmt.Errorf("event %s: %w", key, err)}
	}
	body, err := Payload(w.Dest.Format, e)
	if err != nil {
		return &PermanentError{err}
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Dest.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.UserAgent)
	req.Header.Set(HeaderKey, key)
	req.Header.Set(HeaderEvent, kind)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if len(w.Secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	}
	resp, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", w.Dest.Name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := &StatusError{Dest: w.Dest.Name, Code: resp.StatusCode, Body: printable(answer, 200)}
		if permanentStatus(resp.StatusCode) {
			return &PermanentError{err}
		}
		return err
	}
	return nil
}
