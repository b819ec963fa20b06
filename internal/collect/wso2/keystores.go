package wso2

import (
	"errors"
	"runtime"
	"strings"
	"sync"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/facts"
)

// keystoreRoles are the stores the configuration names, in order.
var keystoreRoles = []string{"primary", "internal", "tls", "truststore"}

// keystores opens every configured keystore with its configured password.
// A store that will not open is reported with opened=false and the reason.
func (p *product) keystores() []facts.Keystore {
	var out []facts.Keystore
	cache := map[string]*openResult{}
	for _, role := range keystoreRoles {
		prefix := "keystore." + role
		if role == "truststore" {
			prefix = "truststore"
		}
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
		if role != "truststore" {
			ks.KeyPassword = p.secret(prefix+".key_password", "password")
		} else {
			ks.KeyPassword = facts.Secret{Key: prefix + ".key_password", Form: "absent"}
		}
		ks.Alias = strings.TrimSpace(ks.Alias)
		if role == "truststore" {
			ks.Alias = "" // MI's truststore alias names the symmetric key, not an entry
		}
		if v, ok := p.cfg.Lookup(prefix + ".file_name"); ok {
			ks.Origin = p.origin(v.Source)
		}
		pw, _ := p.raw(prefix + ".password")
		unknown := ks.Password.Form == "secret_ref" || ks.Password.Form == "env_ref" || ks.Password.Form == "sys_ref"
		key := ks.File + "\x00" + pw
		if unknown {
			key = ks.File + "\x00unverified"
		}
		r, ok := cache[key]
		if !ok {
			r = p.openStore(ks.File, pw, unknown)
			p.certFacts(r)
			cache[key] = r
		}
		if r.err != nil {
			ks.Error = r.err.Error()
		} else {
			ks.Opened = true
			ks.Type = r.store.Format
			for i, e := range r.store.Entries {
				ke := facts.KeyEntry{Alias: e.Alias, Kind: e.Kind, ChainLength: len(e.Chain), Origin: facts.Origin{File: ks.File, Key: e.Alias}}
				if e.Kind == keystore.KindTrustedCert {
					ke.ChainLength = 0
				}
				ke.Certificate = r.certs[i]
				ke.Certificate.DNSNames = append([]string{}, ke.Certificate.DNSNames...)
				ke.Certificate.IPAddresses = append([]string{}, ke.Certificate.IPAddresses...)
				ks.Entries = append(ks.Entries, ke)
			}
			if len(r.store.Notes) > 0 {
				ks.Origin.Note = strings.TrimSpace(ks.Origin.Note + "; " + strings.Join(r.store.Notes, "; "))
			}
		}
		out = append(out, ks)
	}
	return out
}

type openResult struct {
	store *keystore.Store
	err   error
	certs []facts.Certificate // facts of each entry's first certificate
}

// certFacts describes every entry's certificate once per store, sharing
// the work between stores that hold the same certificates (API-M 4.5 keeps
// the whole truststore in its keystore too) and spreading it over the
// CPUs: the self-signature check of ~150 CA roots dominates a scan.
func (p *product) certFacts(r *openResult) {
	if r.err != nil || r.certs != nil {
		return
	}
	r.certs = make([]facts.Certificate, len(r.store.Entries))
	var todo []int
	for i, e := range r.store.Entries {
		if c, ok := p.certCache[string(e.Chain[0].Raw)]; ok {
			r.certs[i] = c
			continue
		}
		todo = append(todo, i)
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r.certs[i] = certinfo.Facts(r.store.Entries[i].Chain[0])
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	if p.certCache == nil {
		p.certCache = map[string]facts.Certificate{}
	}
	for _, i := range todo {
		p.certCache[string(r.store.Entries[i].Chain[0].Raw)] = r.certs[i]
	}
}

func (p *product) openStore(file, password string, unknown bool) *openResult {
	b, err := p.h.read(file)
	if err != nil {
		return &openResult{err: errors.New(strings.TrimPrefix(err.Error(), file+": "))}
	}
	if unknown {
		st, err := keystore.ReadUnverified(b)
		if err != nil {
			return &openResult{err: errors.New("the password is a reference (Secure Vault or environment) and " + err.Error())}
		}
		return &openResult{store: st}
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
// under repository/resources/security; MI gives a path from the home.
func (p *product) securityPath(name string) string {
	name = strings.TrimSpace(name)
	name = strings.TrimPrefix(name, "<CARBON_HOME>/")
	name = strings.TrimPrefix(name, "${carbon.home}/")
	if strings.Contains(name, "/") {
		return strings.TrimPrefix(name, "./")
	}
	return "repository/resources/security/" + name
}
