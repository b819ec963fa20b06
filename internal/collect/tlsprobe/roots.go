package tlsprobe

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// systemRoots is the system trust store indexed by subject, so that
// checking one served chain parses only the roots that could issue it
// instead of the whole store (parsing every system root costs more CPU
// than probing a fast server). Verification against the pool built from
// it gives the same answer as against the full store: x509 only ever
// considers a root whose subject equals the issuer of a certificate in the
// chain (or a root equal to one of them). It is read once per Collector,
// as crypto/x509 reads the system pool once per process.
type systemRoots struct {
	bySubject map[string][][]byte // raw subject -> DER certificates
	// pool is the standard library's pool where the system store is not a
	// set of PEM files (macOS, Windows, ...): then it is used whole.
	pool *x509.CertPool
}

// loadSystemRoots reads the system roots as far as they read.
func loadSystemRoots() *systemRoots {
	r := &systemRoots{bySubject: map[string][][]byte{}}
	if runtime.GOOS == "linux" {
		forEachSystemRootPEM(r.addPEM)
	} else if pool, err := x509.SystemCertPool(); err == nil && pool != nil {
		r.pool = pool
	}
	return r
}

// trustStore is what one scan trusts: the system roots and the
// certificates of the user's CA bundle.
type trustStore struct {
	*systemRoots
	user []*x509.Certificate // the --ca-bundle certificates
}

// loadTrustStore adds the user's CA bundle to the system roots. Only a bad
// bundle is an error.
func loadTrustStore(sys *systemRoots, caBundle string) (*trustStore, error) {
	ts := &trustStore{systemRoots: sys}
	if caBundle == "" {
		return ts, nil
	}
	data, err := os.ReadFile(caBundle)
	if err != nil {
		return ts, fmt.Errorf("CA bundle: %w", err)
	}
	eachCertificateBlock(data, func(der []byte) {
		if c, err := x509.ParseCertificate(der); err == nil {
			ts.user = append(ts.user, c)
		}
	})
	if len(ts.user) == 0 {
		return ts, fmt.Errorf("CA bundle %s: no PEM certificates in it", caBundle)
	}
	return ts, nil
}

// addPEM indexes the certificates of a PEM file by subject.
func (r *systemRoots) addPEM(data []byte) {
	eachCertificateBlock(data, func(der []byte) {
		subject, ok := certSubject(der)
		if !ok {
			// Let the full parser decide; it skips what it cannot read.
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return
			}
			subject = c.RawSubject
		}
		r.bySubject[string(subject)] = append(r.bySubject[string(subject)], der)
	})
}

// poolFor returns the roots that can matter for chain: those whose subject
// is the issuer or the subject of one of its certificates, and every
// certificate of the user's bundle.
func (ts *trustStore) poolFor(chain []*x509.Certificate) *x509.CertPool {
	var pool *x509.CertPool
	if ts.pool != nil {
		pool = ts.pool.Clone()
	} else {
		pool = x509.NewCertPool()
	}
	seen := map[string]bool{}
	for _, c := range chain {
		for _, name := range [][]byte{c.RawIssuer, c.RawSubject} {
			if seen[string(name)] {
				continue
			}
			seen[string(name)] = true
			for _, der := range ts.bySubject[string(name)] {
				if root, err := x509.ParseCertificate(der); err == nil {
					pool.AddCert(root)
				}
			}
		}
	}
	for _, c := range ts.user {
		pool.AddCert(c)
	}
	return pool
}

// eachCertificateBlock calls fn with the DER of every PEM block that
// crypto/x509's AppendCertsFromPEM would consider.
func eachCertificateBlock(data []byte, fn func(der []byte)) {
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		fn(block.Bytes)
	}
}

// certSubject returns the raw subject of a DER certificate without parsing
// the rest, walking the TBSCertificate as crypto/x509 does: version,
// serial number, signature algorithm, issuer, validity, subject.
func certSubject(der []byte) ([]byte, bool) {
	in := cryptobyte.String(der)
	var cert, tbs, subject cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return nil, false
	}
	return subject, true
}

// Where crypto/x509 finds the system roots on Linux (root_linux.go and
// root_unix.go of the standard library): the first certificate file that
// reads, then every file of the certificate directories; SSL_CERT_FILE and
// SSL_CERT_DIR override them.
var (
	linuxCertFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem",
		"/etc/pki/tls/cacert.pem",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/ssl/cert.pem",
	}
	linuxCertDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
)

// forEachSystemRootPEM calls fn with the content of every file the
// standard library reads for the system roots on Linux.
func forEachSystemRootPEM(fn func([]byte)) {
	files, dirs := linuxCertFiles, linuxCertDirs
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		dirs = strings.Split(d, ":")
	}
	forEachRootPEM(files, dirs, fn)
}

// forEachRootPEM reads the first of files that reads, then every file of
// dirs but symlinks to files of the same directory. A file whose content
// is already in a file passed on (the bundle, listed in its own
// directory; each certificate file the bundle was made of) is not passed
// again: its PEM blocks are among those already seen.
func forEachRootPEM(files, dirs []string, fn func([]byte)) {
	var seen pemIndex
	pass := func(data []byte) {
		if !seen.contains(data) {
			seen.add(data)
			fn(data)
		}
	}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pass(data)
			break
		}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if sameDirSymlink(dir, e) {
				continue // the file it names is read under its own name
			}
			if data, err := os.ReadFile(dir + "/" + e.Name()); err == nil {
				pass(data)
			}
		}
	}
}

// pemIndex finds whether some content is a run of whole lines of a file
// already passed on, starting at one of its "-----BEGIN" lines: PEM is
// read line by line, so such content holds exactly the blocks that run
// held there, and decoding it again would add nothing.
type pemIndex struct {
	files [][]byte
	// begins maps the first bytes of each "-----BEGIN" line and what
	// follows (pemKeyLen) to where they are: files[i][at:].
	begins map[string][]pemAt
}

type pemAt struct{ file, at int }

const pemKeyLen = 96

var pemBegin = []byte("-----BEGIN")

func pemKey(b []byte) string { return string(b[:min(len(b), pemKeyLen)]) }

func (x *pemIndex) add(data []byte) {
	if x.begins == nil {
		x.begins = map[string][]pemAt{}
	}
	f := len(x.files)
	x.files = append(x.files, data)
	for at := 0; at < len(data); {
		i := bytes.Index(data[at:], pemBegin)
		if i < 0 {
			return
		}
		at += i
		if at == 0 || data[at-1] == '\n' {
			k := pemKey(data[at:])
			x.begins[k] = append(x.begins[k], pemAt{f, at})
		}
		at += len(pemBegin)
	}
}

func (x *pemIndex) contains(data []byte) bool {
	if !bytes.HasPrefix(data, pemBegin) {
		return false
	}
	for _, p := range x.begins[pemKey(data)] {
		f := x.files[p.file]
		end := p.at + len(data)
		if end <= len(f) && bytes.Equal(f[p.at:end], data) &&
			(end == len(f) || data[len(data)-1] == '\n') {
			return true
		}
	}
	return false
}

func sameDirSymlink(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	target, err := os.Readlink(filepath.Join(dir, e.Name()))
	return err == nil && !strings.Contains(target, "/")
}
