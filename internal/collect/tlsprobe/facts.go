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
		Chain: []facts.Certificate{}, OtherChains: [][]facts.Certificate{},
		CipherOrder: map[string]string{}, Notes: append([]string{}, res.notes...),
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
	var chains [][][]byte
	seen := map[[32]byte]bool{}
	addChain := func(ders [][]byte) {
		if len(ders) == 0 || seen[chainKey(ders)] {
			return
		}
		seen[chainKey(ders)] = true
		chains = append(chains, ders)
	}
	// Chains from the newest version first: that is what clients get.
	for _, v := range res.offered() {
		for _, pk := range res.versions[v].picks {
			addChain(pk.certs)
			if pk.certErr != nil {
				status["tls.chain"] = fmt.Errorf("%s certificate message: %w", v, pk.certErr)
			}
		}
	}
	addChain(res.chain13)
	if res.sslv2Cert != nil {
		addChain([][]byte{res.sslv2Cert})
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
	for i, ders := range chains {
		parsed, err := parseChain(ders)
		if err != nil {
			status["tls.chain"] = err
		}
		if i == 0 {
			tf.Chain = chainFacts(parsed)
			if len(parsed) > 0 {
				if err := verify(parsed, store.poolFor(parsed), now); err != nil {
					tf.TrustError = err.Error()
				} else {
					tf.Trusted = true
				}
				tf.NameMatches = parsed[0].VerifyHostname(name) == nil
			}
			continue
		}
		tf.OtherChains = append(tf.OtherChains, chainFacts(parsed))
	}
	slices.Sort(tf.Notes)
	return tf, status
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
