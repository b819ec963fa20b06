package tlsprobe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netfail"
)

// parseChain parses a served chain, leaf first.
func parseChain(ders [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(ders))
	for i, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return out, fmt.Errorf("certificate %d of the served chain: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func chainFacts(chain []*x509.Certificate) []facts.Certificate {
	out := make([]facts.Certificate, 0, len(chain))
	for _, c := range chain {
		out = append(out, certinfo.Facts(c))
	}
	return out
}

// verify checks the chain against roots at time now for server use.
func verify(chain []*x509.Certificate, pool *x509.CertPool, now time.Time) error {
	if len(chain) == 0 {
		return fmt.Errorf("no certificate served")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// chainKey identifies a chain by its leaf.
func chainKey(ders [][]byte) [32]byte {
	if len(ders) == 0 {
		return [32]byte{}
	}
	return sha256.Sum256(ders[0])
}

// chain13 fetches the chain of a TLS 1.3-only server, whose Certificate
// message is encrypted, with the standard library's client.
func (p *prober) chain13(ctx context.Context) ([][]byte, error) {
	c, err := p.dial(ctx, "TLSv1.3 certificate")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// The chain is kept as soon as it arrives: a server that then insists
	// on a client certificate fails the handshake, but has shown its own.
	var served [][]byte
	cfg := &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // the prober reads the chain; trust is judged separately.
		ServerName:         p.sni,
		Rand:               c.Rand(),
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			served = raw
			return nil
		},
	}
	tc := tls.Client(c, cfg)
	err = tc.HandshakeContext(ctx)
	switch {
	case len(served) > 0:
		return served, nil
	case err == nil:
		return nil, errors.New("TLSv1.3 handshake for the certificate: the server sent no certificate")
	case ctx.Err() == nil && netfail.IsTimeout(err):
		return nil, p.stall("a TLSv1.3 handshake for the certificate began", err)
	}
	return nil, fmt.Errorf("TLSv1.3 handshake for the certificate: %w", err)
}
