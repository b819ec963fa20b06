package sshprobe

import (
	"fmt"
)

// kexInit is an SSH_MSG_KEXINIT (RFC 4253 section 7.1).
type kexInit struct {
	Cookie               [16]byte
	Kex                  []string
	HostKey              []string
	CiphersCS, CiphersSC []string
	MACsCS, MACsSC       []string
	CompCS, CompSC       []string
	LangCS, LangSC       []string
	FirstFollows         bool
	Reserved             uint32
}

// parseKexInit decodes a KEXINIT payload (starting with its message byte).
// It never panics on malformed input; the lists are bounded by the packet
// size and maxNames.
func parseKexInit(p []byte) (*kexInit, error) {
	if len(p) == 0 || p[0] != msgKexInit {
		return nil, protocolErr("not a KEXINIT message")
	}
	r := reader{b: p[1:]}
	k := &kexInit{}
	copy(k.Cookie[:], r.bytes(16))
	lists := []*[]string{&k.Kex, &k.HostKey, &k.CiphersCS, &k.CiphersSC, &k.MACsCS, &k.MACsSC, &k.CompCS, &k.CompSC, &k.LangCS, &k.LangSC}
	for _, l := range lists {
		*l = r.nameList()
	}
	k.FirstFollows = r.boolean()
	k.Reserved = r.u32()
	if r.err != nil {
		return nil, fmt.Errorf("malformed KEXINIT: %w", r.err)
	}
	if len(k.Kex) == 0 || len(k.HostKey) == 0 {
		return nil, protocolErr("malformed KEXINIT: empty key exchange or host key list")
	}
	return k, nil
}

// marshal encodes k as a KEXINIT payload.
func (k *kexInit) marshal() []byte {
	b := []byte{msgKexInit}
	b = append(b, k.Cookie[:]...)
	for _, l := range [][]string{k.Kex, k.HostKey, k.CiphersCS, k.CiphersSC, k.MACsCS, k.MACsSC, k.CompCS, k.CompSC, k.LangCS, k.LangSC} {
		b = appendNameList(b, l)
	}
	b = appendBool(b, k.FirstFollows)
	return appendU32(b, 0)
}

// negotiate picks the first client algorithm the server also offers
// (RFC 4253 section 7.1); "" when there is none.
func negotiate(client, server []string) string {
	for _, c := range client {
		for _, s := range server {
			if c == s {
				return c
			}
		}
	}
	return ""
}
