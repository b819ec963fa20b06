package facts

import (
	"fmt"
	"strings"
)

// Summary methods render a fact as one line of evidence. The rule engine
// uses them when a rule points at a fact; types without one are shown as
// JSON. None of them ever prints a secret.

// Summary renders "key = value", with secret values redacted.
func (s Setting) Summary() string {
	if !s.Set {
		return s.Key + " (not set)"
	}
	return s.Key + " = " + RedactValue(s.Key, s.Value)
}

// Summary renders the secret's key and how it is written, never its value.
func (s Secret) Summary() string {
	var b strings.Builder
	b.WriteString(s.Key)
	b.WriteString(": ")
	switch s.Form {
	case "plain":
		b.WriteString("plain text " + Redacted)
	case "secret_ref":
		fmt.Fprintf(&b, "$secret{%s}", s.Alias)
		if !s.Resolved {
			b.WriteString(" (alias not defined in [secrets])")
		}
	default:
		b.WriteString(s.Form)
	}
	if s.KnownDefault {
		b.WriteString(", equals the publicly known default")
	}
	return b.String()
}

// Summary renders subject, key, signature and validity.
func (c Certificate) Summary() string {
	s := fmt.Sprintf("%s (%s %d, %s, valid %s to %s", c.Subject, c.KeyType, c.KeyBits, c.SignatureAlgorithm,
		c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
	if c.SelfSigned {
		s += ", self-signed"
	}
	if c.WSO2Default {
		s += ", WSO2 default certificate"
	}
	return s + ")"
}

// Summary renders the suite as "TLSv1.2 0xC02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
func (c CipherSuite) Summary() string { return c.Version + " " + c.ID + " " + c.Name }

// Summary renders the keystore's role, file and entry count.
func (k Keystore) Summary() string {
	s := fmt.Sprintf("%s keystore %s (%s)", k.Role, k.File, k.Type)
	if k.Error != "" {
		return s + ": " + k.Error
	}
	return fmt.Sprintf("%s, %d entries", s, len(k.Entries))
}

// Summary renders the alias and certificate.
func (e KeyEntry) Summary() string { return e.Alias + ": " + e.Certificate.Summary() }

// Summary renders the listener's protocols and ciphers.
func (l TLSListener) Summary() string {
	s := l.Name + " protocols " + strings.Join(l.Protocols, ",")
	if len(l.Ciphers) > 0 {
		s += fmt.Sprintf("; %d ciphers configured", len(l.Ciphers))
	}
	return s
}

// Summary renders the appender's type, rotation and layout.
func (a Appender) Summary() string {
	return fmt.Sprintf("%s (%s) policies=[%s] max=%d pattern=%q", a.Name, a.Type, strings.Join(a.Policies, ","), a.MaxBackups, a.Pattern)
}

// Summary renders the datasource without its password.
func (d Datasource) Summary() string {
	return fmt.Sprintf("%s: %s user=%s tls=%t", d.Name, d.URL, d.Username, d.TLS)
}

// Summary renders the user store without its password.
func (u UserStore) Summary() string {
	return fmt.Sprintf("%s: %s %s read_only=%t user=%s", u.Name, u.Type, u.URL, u.ReadOnly, u.ConnectionName)
}

// Summary renders address:port and owner.
func (l Listener) Summary() string {
	return fmt.Sprintf("%s:%d %s (pid %d, user %s)", l.Address, l.Port, l.Process, l.PID, l.User)
}

// Summary renders the process, its user and product.
func (p Process) Summary() string {
	return fmt.Sprintf("pid %d %s user=%s uid=%d home=%s", p.PID, p.Name, p.User, p.UID, p.ProductHome)
}

// Summary renders the firewall rule.
func (r FirewallRule) Summary() string {
	return fmt.Sprintf("%s %s %s ports=%v from=%v", r.Chain, r.Action, r.Protocol, r.Ports, r.Sources)
}

// Summary renders the open port and service.
func (p OpenPort) Summary() string {
	s := fmt.Sprintf("%d/tcp %s", p.Port, p.Service)
	if p.Default != "" {
		s += " (WSO2 default " + p.Default + ")"
	}
	return s
}

// Summary renders the path and how it answered.
func (p PathProbe) Summary() string {
	if p.Error != "" {
		return p.Path + ": " + p.Error
	}
	return fmt.Sprintf("%s -> %d", p.Path, p.Status)
}

// Summary renders the page's caching headers.
func (p Page) Summary() string {
	return fmt.Sprintf("%s -> %d Cache-Control: %q", p.Path, p.Status, p.CacheControl)
}

// Summary renders the cookie's attributes, never its value.
func (c Cookie) Summary() string {
	return fmt.Sprintf("%s (%d chars, Secure=%t, HttpOnly=%t, SameSite=%s)", c.Name, c.Length, c.Secure, c.HTTPOnly, c.SameSite)
}

// Summary renders the health endpoint's answer.
func (h HealthProbe) Summary() string {
	if h.Error != "" {
		return h.URL + ": " + h.Error
	}
	return fmt.Sprintf("%s -> %d in %d ms", h.URL, h.Status, h.LatencyMS)
}

// Summary renders where the disclosure was seen.
func (d Disclosure) Summary() string { return d.Where + ": " + d.Value }

// Summary renders the backup location's newest file.
func (b Backup) Summary() string {
	if !b.Exists {
		return b.Location + ": does not exist"
	}
	if b.NewestFile == "" {
		return b.Location + ": empty"
	}
	return fmt.Sprintf("%s: newest %s (%s)", b.Location, b.NewestFile, b.Newest.Format("2006-01-02 15:04"))
}

// Summary renders the file's owner and mode.
func (f FileMode) Summary() string {
	return fmt.Sprintf("%s %s %s:%s", f.Path, f.Mode, f.Owner, f.Group)
}

// Summary renders the web app's filters.
func (w WebApp) Summary() string {
	return fmt.Sprintf("%s: hstsEnabled=%t cache_prevention=%t", w.Name, w.HSTSEnabled, w.CachePrevention)
}

// Summary renders the host key.
func (k HostKey) Summary() string { return fmt.Sprintf("%s %d bits", k.Algorithm, k.Bits) }

// Summary renders the login attempt's result.
func (l LoginAttempt) Summary() string {
	if l.Error != "" {
		return l.URL + " as " + l.Username + ": " + l.Error
	}
	return fmt.Sprintf("%s as %s: accepted=%t (status %d)", l.URL, l.Username, l.Accepted, l.Status)
}

// Summary renders the port and its default.
func (p PortSetting) Summary() string {
	return fmt.Sprintf("%s port %d (default %d)", p.Name, p.Port, p.DefaultPort)
}
