package keystore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
)

// openJKS reads a JKS store with keystore-go after checking that every
// length in it fits the data, so a forged length cannot make the reader
// allocate gigabytes.
func openJKS(data []byte, password string) (*Store, error) {
	if err := checkJKSBounds(data); err != nil {
		return nil, fmt.Errorf("malformed JKS: %w", err)
	}
	ks := jks.New(jks.WithOrderedAliases())
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		if strings.Contains(err.Error(), "invalid digest") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("malformed JKS: %w", err)
	}
	st := &Store{Format: FormatJKS, PasswordChecked: true}
	aliases := ks.Aliases()
	sort.Strings(aliases)
	for _, a := range aliases {
		switch {
		case ks.IsPrivateKeyEntry(a):
			raw, err := ks.GetPrivateKeyEntryCertificateChain(a)
			if err != nil {
				st.Entries = append(st.Entries, Entry{Alias: a, Kind: KindPrivateKey, Error: err.Error()})
				continue
			}
			var chain [][]byte
			for _, c := range raw {
				chain = append(chain, c.Content)
			}
			if len(chain) == 0 {
				st.Entries = append(st.Entries, Entry{Alias: a, Kind: KindPrivateKey, Error: "the private key entry holds no certificate"})
				continue
			}
			st.Entries = append(st.Entries, Entry{Alias: a, Kind: KindPrivateKey, Chain: chain})
		case ks.IsTrustedCertificateEntry(a):
			tc, err := ks.GetTrustedCertificateEntry(a)
			if err != nil {
				st.Notes = append(st.Notes, "trusted entry "+a+": "+err.Error())
				continue
			}
			st.Entries = append(st.Entries, Entry{Alias: a, Kind: KindTrustedCert, Chain: [][]byte{tc.Certificate.Content}})
		}
	}
	return st, nil
}

// checkJKSBounds walks the JKS layout (magic, version, count, entries,
// 20-byte digest) and checks every declared length against what is left.
func checkJKSBounds(b []byte) error {
	r := &reader{b: b}
	if r.u32() != jksMagic {
		return errors.New("bad magic")
	}
	version := r.u32()
	if version != 1 && version != 2 {
		return fmt.Errorf("unknown version %d", version)
	}
	n := r.u32()
	// The smallest entry is over 14 bytes: a count beyond that is a lie.
	if r.err == nil && uint64(n) > uint64(len(b))/14 {
		return fmt.Errorf("%d entries cannot fit in %d bytes", n, len(b))
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		tag := r.u32()
		r.skip(int(r.u16())) // alias
		r.skip(8)            // timestamp
		switch tag {
		case 1:
			r.skip(int(r.u32())) // encrypted key
			certs := r.u32()
			if r.err == nil && uint64(certs) > uint64(r.left())/4 {
				return fmt.Errorf("entry %d: %d certificates cannot fit", i, certs)
			}
			for j := uint32(0); j < certs && r.err == nil; j++ {
				r.cert(version)
			}
		case 2:
			r.cert(version)
		default:
			if r.err == nil {
				return fmt.Errorf("entry %d: unknown tag %d", i, tag)
			}
		}
	}
	r.skip(20)
	return r.err
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.err = fmt.Errorf("length %d at offset %d runs past the end (%d bytes)", n, r.off, len(r.b))
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) skip(n int) { r.take(n) }

func (r *reader) u16() uint16 {
	s := r.take(2)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint16(s)
}

func (r *reader) u32() uint32 {
	s := r.take(4)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint32(s)
}

func (r *reader) cert(version uint32) {
	if version == 2 {
		r.skip(int(r.u16())) // certificate type
	}
	n := r.u32()
	if uint64(n) > uint64(r.left()) {
		if r.err == nil {
			r.err = fmt.Errorf("certificate of %d bytes runs past the end", n)
		}
		return
	}
	r.skip(int(n))
}

// ReadUnverified lists the certificates of a store whose password is not
// known (a Secure Vault reference): JKS keeps certificates in the clear, so
// they are read without checking the store's integrity digest; PKCS#12
// certificates are readable only when they sit in unencrypted content.
func ReadUnverified(data []byte) (*Store, error) {
	format, err := Sniff(data)
	if err != nil {
		return nil, err
	}
	note := "read without the password: the store's integrity was not verified"
	switch format {
	case FormatJKS:
		st, err := walkJKS(data)
		if err != nil {
			return nil, fmt.Errorf("malformed JKS: %w", err)
		}
		st.Notes = append(st.Notes, note)
		return st, nil
	case FormatPKCS12:
		return readPKCS12(data, "", false)
	}
	return nil, fmt.Errorf("%s keystores are not supported", format)
}

// walkJKS reads a JKS layout's entries (aliases and certificates).
func walkJKS(b []byte) (*Store, error) {
	if err := checkJKSBounds(b); err != nil {
		return nil, err
	}
	r := &reader{b: b}
	r.u32()
	version := r.u32()
	n := r.u32()
	st := &Store{Format: FormatJKS}
	readCert := func() []byte {
		if version == 2 {
			r.skip(int(r.u16()))
		}
		return r.take(int(r.u32()))
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		tag := r.u32()
		alias := string(r.take(int(r.u16())))
		r.skip(8)
		switch tag {
		case 1:
			r.skip(int(r.u32()))
			count := r.u32()
			var chain [][]byte
			for j := uint32(0); j < count && r.err == nil; j++ {
				chain = append(chain, readCert())
			}
			e := Entry{Alias: alias, Kind: KindPrivateKey, Chain: chain}
			if len(chain) == 0 {
				e.Error = "the private key entry holds no certificate"
			}
			st.Entries = append(st.Entries, e)
		case 2:
			st.Entries = append(st.Entries, Entry{Alias: alias, Kind: KindTrustedCert, Chain: [][]byte{readCert()}})
		}
	}
	sort.Slice(st.Entries, func(i, j int) bool { return st.Entries[i].Alias < st.Entries[j].Alias })
	return st, r.err
}
