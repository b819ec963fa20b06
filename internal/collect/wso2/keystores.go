package wso2

import (
	"errors"
	"strings"
	"sync"

	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/facts"
)

// keystores opens every configured keystore with its configured password.
// A store that will not open is reported with opened=false and the reason.
// The entries' certificates are described in the background; the returned
// function waits for that and fills them in (calling it again is a no-op).
func (p *product) keystores() ([]facts.Keystore, func()) {
	var out []facts.Keystore
	cache := map[string]*openResult{}
	var opened []*openResult
	type pending struct {
		ks int
		r  *openResult
	}
	var pend []pending
	for _, kr := range p.kb.Keystores.Roles {
		role, prefix := kr.Role, kr.Table
		if !p.cfg.Has(prefix + ".file_name") {
			continue
		}
		name, _ := p.raw(prefix + ".file_name")
		ks := facts.Keystore{
			Role:     role,
			File:     p.securityPath(name),
			Type:     strings.ToUpper(p.setting(prefix + ".type").Value),
			Password: p.secret(prefix+".password", "password"),
			Alias:    p.setting(prefix + ".alias").Value,
			Entries:  []facts.KeyEntry{},
		}
		if !kr.Trust {
			ks.KeyPassword = p.secret(prefix+".key_password", "password")
		} else {
			ks.KeyPassword = facts.Secret{Key: prefix + ".key_password", Form: "absent"}
		}
		ks.Alias = strings.TrimSpace(ks.Alias)
		if kr.Trust {
			ks.Alias = "" // MI's truststore alias names the symmetric key, not an entry
		}
		if v, ok := p.cfg.Lookup(prefix + ".file_name"); ok {
			ks.Origin = p.origin(v.Source)
		}
		pw, known := p.secretValue(prefix + ".password")
		key := ks.File + "\x00" + pw
		if !known {
			key = ks.File + "\x00unverified"
		}
		r, ok := cache[key]
		if !ok {
			r = p.openStore(ks.File, pw, !known, p.kb.Keystores.DefaultPassword)
			cache[key] = r
			opened = append(opened, r)
		}
		if !known {
			// The password is a reference the files do not answer (cipher
			// text, the environment): whether it is the public default is
			// told by the store itself, which opens with it or not.
			switch r.defaultOpens {
			case yes:
				ks.Password.KnownDefault = true
				ks.Password.Unknown = false
				ks.Password.Origin.Note = strings.TrimPrefix(ks.Password.Origin.Note+"; the store opens with the public default password "+p.kb.Keystores.DefaultPassword, "; ")
			case no:
				ks.Password.Unknown = false
				ks.Password.Origin.Note = strings.TrimPrefix(ks.Password.Origin.Note+"; the store does not open with the public default password "+p.kb.Keystores.DefaultPassword, "; ")
			}
		}
		if r.err != nil {
			ks.Error = r.err.Error()
		} else {
			ks.Opened = true
			ks.Type = r.store.Format
			for _, e := range r.store.Entries {
				ke := facts.KeyEntry{Alias: e.Alias, Kind: e.Kind, ChainLength: len(e.Chain), Origin: facts.Origin{File: ks.File, Key: e.Alias}, Error: e.Error}
				if e.Kind == keystore.KindTrustedCert {
					ke.ChainLength = 0
				}
				ks.Entries = append(ks.Entries, ke)
			}
			if len(r.store.Notes) > 0 {
				ks.Origin.Note = strings.TrimSpace(ks.Origin.Note + "; " + strings.Join(r.store.Notes, "; "))
			}
			pend = append(pend, pending{len(out), r})
		}
		out = append(out, ks)
	}
	wait := p.describeCerts(opened)
	var once sync.Once
	return out, func() {
		once.Do(func() {
			wait()
			for _, pd := range pend {
				for i := range out[pd.ks].Entries {
					c := pd.r.certs[i]
					c.DNSNames = append([]string{}, c.DNSNames...)
					c.IPAddresses = append([]string{}, c.IPAddresses...)
					out[pd.ks].Entries[i].Certificate = c
					if c.ParseError != "" {
						out[pd.ks].Entries[i].Origin.Note = "certificate read leniently: " + c.ParseError
					}
				}
			}
		})
	}
}

type tristate int

const (
	unknownState tristate = iota
	yes
	no
)

type openResult struct {
	store *keystore.Store
	err   error
	certs []facts.Certificate // facts of each entry's first certificate
	// defaultOpens, for a store whose password the files do not hold: does
	// the public default password (products.yaml keystores.default_password)
	// pass its integrity check?
	defaultOpens tristate
}

func (p *product) openStore(file, password string, unknown bool, defaultPassword string) *openResult {
	b, err := p.h.read(file)
	if err != nil {
		return &openResult{err: errors.New(strings.TrimPrefix(err.Error(), file+": "))}
	}
	if unknown {
		r := &openResult{}
		if st, err := keystore.Open(b, defaultPassword); err == nil && st.PasswordChecked {
			r.defaultOpens, r.store = yes, st
			return r
		} else if errors.Is(err, keystore.ErrWrongPassword) {
			r.defaultOpens = no
		}
		st, err := keystore.ReadUnverified(b)
		if err != nil {
			r.err = errors.New("the password is a reference the files do not hold (Secure Vault, environment) and " + err.Error())
			return r
		}
		r.store = st
		return r
	}
	st, err := keystore.Open(b, password)
	if err != nil {
		if errors.Is(err, keystore.ErrWrongPassword) {
			return &openResult{err: errors.New("keystore password was incorrect (the configured password does not open it)")}
		}
		return &openResult{err: err}
	}
	return &openResult{store: st}
}

// securityPath resolves a keystore file_name: IS/API-M give a bare name
// under the keystores' directory; MI gives a path from the home.
func (p *product) securityPath(name string) string {
	name = strings.TrimSpace(name)
	for _, prefix := range p.kb.Keystores.HomePrefixes {
		name = strings.TrimPrefix(name, prefix)
	}
	if strings.Contains(name, "/") {
		return strings.TrimPrefix(name, "./")
	}
	return p.kb.Keystores.Dir + "/" + name
}
