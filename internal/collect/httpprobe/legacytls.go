package httpprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/rampart-sec/rampart/internal/tlswire"
)

// TLS clients named in facts.HTTP.TLSClient.
const (
	clientGo      = "crypto/tls"
	clientTLSWire = "tlswire"
)

// noCommonParameters reports whether a crypto/tls handshake failed
// because the server shares no protocol version or cipher suite with Go's
// client: it answered with a handshake_failure, protocol_version or
// insufficient_security alert.
func noCommonParameters(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return false
	}
	s := op.Err.Error()
	return strings.HasSuffix(s, "handshake failure") || strings.HasSuffix(s, "protocol version not supported") ||
		strings.HasSuffix(s, "insufficient security level")
}

// dialTLSWire connects and handshakes with tlswire's minimal client (TLS
// 1.0-1.2; ECDHE, DHE or RSA key exchange; AES-GCM, ChaCha20-Poly1305 or
// AES-CBC), which has
// the DHE suites Go's client lacks. Like the crypto/tls path it does not
// verify the certificate but sends SNI.
func (p *prober) dialTLSWire(ctx context.Context, network, addr, serverName string) (net.Conn, error) {
	raw, err := p.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	tc := tlswire.Client(raw, tlswire.ClientConfig{ServerName: serverName, NextProtos: []string{"http/1.1"}, Rand: raw.Rand()})
	hctx, cancel := context.WithTimeout(ctx, p.opts.ConnectTimeout)
	defer cancel()
	if err := tc.Handshake(hctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("rampart's own TLS 1.0-1.2 client: %w", err)
	}
	return tc, nil
}
