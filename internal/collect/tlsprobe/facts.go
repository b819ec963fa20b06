package tlsprobe

import (
	"fmt"
	"slices"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// buildFacts turns a scan into the tls namespace.
func (c *Collector) buildFacts(res *scanResult, addr, name, sni string, env *collect.Env, store *trustStore, storeErr error) (*facts.TLS, map[string]error) {
	status := map[string]error{}
	tf := &facts.TLS{
		Address: addr, SNI: sni,
		Versions: []string{}, Suites: []facts.CipherSuite{}, Groups: []string{},
		Chain: []facts.Certificate{}, Chains: []facts.ServedChain{},
		CipherOrder: map[string]string{}, CBCFirst: []facts.CBCFirstChoice{}, Notes: append([]string{}, res.notes...),
		VersionsUnknown:     append([]string{}, res.unknown...),
		ClientRenegotiation: res.reneg, ClientRenegotiationNote: res.renegNote,
		Compression: res.compression, FallbackSCSV: res.fallback,
		NameChecked: name,
	}
	if tf.ClientRenegotiation == "" {
		tf.ClientRenegotiation = renegUnknown
	}
	if len(res.sslv2Kinds) > 0 {
		tf.Versions = append(tf.Versions, "SSLv2")
		for _, k := range res.sslv2Kinds {
			s, _ := c.reg.LookupSSLv2(k)
			tf.Suites = append(tf.Suites, suiteFact("SSLv2", s))
		}
	}
	// Every chain the server presented, from the newest version first:
	// that is what clients get.
	var chains []servedChain
	index := map[[32]byte]int{}
	addChain := func(ders [][]byte, with string) {
		if len(ders) == 0 {
			return
		}
		i, ok := index[chainKey(ders)]
		if !ok {
			i = len(chains)
			index[chainKey(ders)] = i
			chains = append(chains, servedChain{ders: ders})
		}
		if with != "" && !slices.Contains(chains[i].with, with) {
			chains[i].with = append(chains[i].with, with)
		}
	}
	var certErr error
	for _, v := range res.offered() {
		for _, pk := range res.versions[v].picks {
			s, _ := c.reg.Lookup(pk.suite)
			with := s.Auth
			if v >= tlswire.VersionTLS13 || with == "" || with == "ANY" {
				with = v.String()
			}
			addChain(pk.certs, with)
			if pk.certErr != nil {
				certErr = fmt.Errorf("%s certificate message: %w", v, pk.certErr)
				status["tls.chain"] = certErr
			}
		}
	}
	addChain(res.chain13, tlswire.VersionTLS13.String())
	if res.sslv2Cert != nil {
		addChain([][]byte{res.sslv2Cert}, "SSLv2")
	}
	dh := 0
	for _, v := range []tlswire.Version{tlswire.VersionSSL30, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13} {
		vr := res.versions[v]
		if vr == nil || !vr.offered {
			continue
		}
		tf.Versions = append(tf.Versions, v.String())
		for _, id := range vr.suites {
			s, _ := c.reg.Lookup(id)
			tf.Suites = append(tf.Suites, suiteFact(v.String(), s))
		}
		if vr.serverPref != nil {
			tf.CipherOrder[v.String()] = map[bool]string{true: "server", false: "client"}[*vr.serverPref]
		}
		if cf := vr.cbcFirst; cf != nil {
			choice := facts.CBCFirstChoice{Version: v.String()}
			if cf.err != nil {
				choice.Error, choice.Cause = cf.err.Error(), collect.Cause(cf.err)
			} else {
				s, _ := c.reg.Lookup(cf.chosen)
				choice.Chosen, choice.Mode = s.Name, s.Mode
			}
			tf.CBCFirst = append(tf.CBCFirst, choice)
		}
		for _, pk := range vr.picks {
			if pk.ske != nil && pk.ske.Kind == "dh" && (dh == 0 || pk.ske.DHBits < dh) {
				dh = pk.ske.DHBits
			}
		}
	}
	for _, g := range res.groups {
		grp := tlswire.LookupGroup(g)
		tf.Groups = append(tf.Groups, grp.Name)
		if grp.Kind == "ff" && (dh == 0 || grp.Bits < dh) {
			dh = grp.Bits
		}
	}
	tf.DHBits = dh
	// Whose order: the best pre-1.3 version that could tell, else TLS 1.3.
	for _, v := range []tlswire.Version{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL30, tlswire.VersionTLS13} {
		if o, ok := tf.CipherOrder[v.String()]; ok {
			tf.ServerPreference = o == "server"
			break
		}
	}
	if b := res.best(tlswire.VersionTLS12); b != nil && len(b.picks) > 0 {
		tf.SecureRenegotiation = b.picks[0].sh.RenegotiationInfo != nil
	}

	// Certificates.
	now := env.Clock()
	if storeErr != nil {
		status["tls.trusted"] = storeErr
	}
	for i, ch := range chains {
		parsed, err := parseChain(ch.ders)
		sc := facts.ServedChain{Certificates: chainFacts(parsed), ServedWith: ch.with}
		if sc.ServedWith == nil {
			sc.ServedWith = []string{}
		}
		if err != nil {
			status["tls.chain"] = err
			sc.Error = err.Error()
		}
		if len(parsed) > 0 {
			if err := verify(parsed, store.poolFor(parsed), now); err != nil {
				sc.TrustError = err.Error()
			} else {
				sc.Trusted = true
			}
			sc.NameMatches = parsed[0].VerifyHostname(name) == nil
		}
		if i == 0 {
			tf.Chain, tf.Trusted, tf.TrustError, tf.NameMatches = sc.Certificates, sc.Trusted, sc.TrustError, sc.NameMatches
		}
		tf.Chains = append(tf.Chains, sc)
	}
	tf.AnonymousOnly = len(tf.Suites) > 0
	for _, s := range tf.Suites {
		if !slices.Contains(certless, s.Auth) {
			tf.AnonymousOnly = false
		}
	}
	if len(chains) == 0 {
		tf.ChainError = chainError(tf, res, certErr)
		if certErr == nil {
			tf.ChainCause = collect.Cause(res.chainErr)
		}
	}
	if res.compressionErr != nil {
		tf.CompressionError = res.compressionErr.Error()
		tf.CompressionCause = collect.Cause(res.compressionErr)
	}
	slices.Sort(tf.Notes)
	return tf, status
}

// certless are the authentications that need no certificate.
var certless = []string{"anon", "NULL", "PSK", "SRP", "KRB5", "ECCPWD"}

// servedChain is one distinct chain and the authentication of the suites
// it came with.
type servedChain struct {
	ders [][]byte
	with []string
}

// chainError says why a scan got no certificate.
func chainError(tf *facts.TLS, res *scanResult, certErr error) string {
	switch {
	case certErr != nil:
		return certErr.Error()
	case res.chainErr != nil:
		return res.chainErr.Error()
	case len(tf.Versions) == 0:
		return "no handshake was accepted: the server refused every protocol version and suite offered"
	case tf.AnonymousOnly:
		return "only suites without certificates are accepted"
	}
	return "no handshake showed a Certificate message"
}

func envCABundle(env *collect.Env) string {
	if env == nil {
		return ""
	}
	return env.CABundle
}

func suiteFact(version string, s tlswire.Suite) facts.CipherSuite {
	return facts.CipherSuite{
		Version: version, ID: s.HexID(), Name: s.Name,
		Kex: s.Kex, Auth: s.Auth, Cipher: s.Cipher, Mode: s.Mode, MAC: s.MAC,
		Bits: s.Bits, Export: s.Export, ForwardSecrecy: s.ForwardSecrecy,
	}
}
