package sshprobe

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// Limits on the identification exchange (RFC 4253 section 4.2): a line is
// at most 255 bytes with its CR LF; a server may send other lines first.
const (
	maxIdentLine  = 255
	maxIdentLines = 32
)

// ErrNotSSH means the server's first bytes are not an SSH identification.
var ErrNotSSH = netfail.New(netfail.ProtocolMismatch, "not an SSH server")

// ident is a server's identification string, split into its parts.
type ident struct {
	// Line is the whole identification line without CR LF.
	Line string
	// Proto is "2.0" (or "1.99"); Software the softwareversion token;
	// Comments what follows it.
	Proto, Software, Comments string
	// PreLines are other lines the server sent before it.
	PreLines []string
}

// readIdent reads lines until one starts with "SSH-". It fails with
// ErrNotSSH when the first bytes are not text lines leading to one.
func readIdent(br *bufio.Reader) (ident, error) {
	var id ident
	for i := 0; i < maxIdentLines; i++ {
		line, err := readLine(br)
		if err != nil {
			if i == 0 && len(line) > 0 && !strings.HasPrefix("SSH-", line[:min(len(line), 4)]) {
				return id, fmt.Errorf("%w: first bytes %q", ErrNotSSH, clipText(line))
			}
			return id, err
		}
		if strings.HasPrefix(line, "SSH-") {
			return parseIdent(line, id.PreLines)
		}
		if i == 0 && !isText(line) {
			return id, fmt.Errorf("%w: first bytes %q", ErrNotSSH, clipText(line))
		}
		id.PreLines = append(id.PreLines, printable(line))
	}
	return id, fmt.Errorf("%w: no identification string in the first %d lines", ErrNotSSH, maxIdentLines)
}

// readLine reads one line of at most maxIdentLine bytes, CR LF or LF ended.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			if len(b) == 0 {
				return "", fmt.Errorf("reading identification: %w", err)
			}
			return string(b), fmt.Errorf("reading identification: %w after %d bytes", err, len(b))
		}
		if c == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		b = append(b, c)
		if len(b) > maxIdentLine {
			return string(b), netfail.Mark(netfail.TooLarge, fmt.Errorf("identification line longer than %d bytes", maxIdentLine))
		}
	}
}

func parseIdent(line string, pre []string) (ident, error) {
	id := ident{Line: line, PreLines: pre}
	rest := strings.TrimPrefix(line, "SSH-")
	proto, rest, ok := strings.Cut(rest, "-")
	if !ok || proto == "" {
		return id, protocolErr("malformed identification %q", clipText(line))
	}
	id.Proto = proto
	id.Software, id.Comments, _ = strings.Cut(rest, " ")
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return id, protocolErr("identification %q holds a non-printable character", clipText(line))
		}
	}
	if proto != "2.0" && proto != "1.99" {
		return id, protocolErr("server speaks SSH protocol %s only (identification %q)", proto, clipText(line))
	}
	return id, nil
}

func isText(s string) bool {
	for _, c := range []byte(s) {
		if (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f {
			return false
		}
	}
	return true
}

func clipText(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
