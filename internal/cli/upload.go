package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-sec/rampart/internal/finding"
)

// uploadOpts send a scan's JSON report to a rampart server.
type uploadOpts struct {
	url       string
	tokenFile string
	caFile    string
	// required makes a failed upload fail the command (exit 2); otherwise
	// it is reported and the exit code is the scan's.
	required bool
}

func (o *uploadOpts) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.url, "upload", "", "after the scan, send the JSON report to this rampart server (https://host:port), with the API token from RAMPART_TOKEN or --token-file")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the API token for --upload")
	f.BoolVar(&o.required, "upload-required", false, "exit 2 when --upload fails (by default a failed upload is reported and the exit code is the scan's)")
	f.StringVar(&o.caFile, "upload-ca", "", "PEM file of CA certificates to trust for --upload (the server's data_dir/ca.pem)")
}

// endpoint returns the upload URL: the server's /api/v1/runs unless the
// URL names a path.
func (o *uploadOpts) endpoint() (string, error) {
	u, err := url.Parse(o.url)
	if err != nil || u.Host == "" {
		return "", usageErr("--upload %q is not a URL", o.url)
	}
	if u.Scheme != "https" {
		return "", usageErr("--upload %q: the server is reached over https only", o.url)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/v1/runs"
	}
	return u.String(), nil
}

func (o *uploadOpts) token(getenv func(string) string) (string, error) {
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", usageErr("--token-file: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := strings.TrimSpace(getenv("RAMPART_TOKEN")); t != "" {
		return t, nil
	}
	return "", usageErr("--upload needs an API token: set RAMPART_TOKEN or give --token-file")
}

// validate checks the flags before the scan runs, so a typo does not
// cost a whole scan.
func (o *uploadOpts) validate(getenv func(string) string) error {
	if o.url == "" {
		if o.tokenFile != "" || o.caFile != "" || o.required {
			return usageErr("--token-file, --upload-ca and --upload-required go with --upload")
		}
		return nil
	}
	if _, err := o.endpoint(); err != nil {
		return err
	}
	if _, err := o.token(getenv); err != nil {
		return err
	}
	if o.caFile != "" {
		if _, err := os.Stat(o.caFile); err != nil {
			return usageErr("--upload-ca: %v", err)
		}
	}
	return nil
}

// send posts the report and returns the server's answer.
func (o *uploadOpts) send(ctx context.Context, r *finding.Report, getenv func(string) string) (string, error) {
	endpoint, err := o.endpoint()
	if err != nil {
		return "", err
	}
	tok, err := o.token(getenv)
	if err != nil {
		return "", err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return "", fmt.Errorf("upload: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return "", fmt.Errorf("upload: %s holds no PEM certificate", o.caFile)
		}
		tc.RootCAs = pool
	}
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "rampart/"+version())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("upload to %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(answer)))
	}
	var res struct {
		RunID int64  `json:"run_id"`
		URL   string `json:"url"`
	}
	_ = json.Unmarshal(answer, &res)
	u, _ := url.Parse(endpoint)
	return fmt.Sprintf("uploaded as run #%d: %s://%s%s", res.RunID, u.Scheme, u.Host, res.URL), nil
}
