package tlsprobe

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/rampart-sec/rampart/internal/collect"
)

// A server presenting the certificate WSO2 ships in every default keystore
// (here the real one from the IS 7.1.0 pack, with its well-known password)
// is recognised: KEY-001 judges chain[0].wso2_default.
func TestServesWSO2DefaultCertificate(t *testing.T) {
	p12 := filepath.Join(testenv.WSO2Fixture(t, "is-7.1.0"), "repository", "resources", "security", "wso2carbon.p12")
	data, err := os.ReadFile(p12)
	if err != nil {
		t.Fatalf("fixture keystore: %v", err)
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, "wso2carbon")
	if err != nil {
		t.Fatalf("decode %s: %v", p12, err)
	}
	// The store also holds trusted CAs: serve the certificate of the key.
	var chain [][]byte
	for _, c := range append([]*x509.Certificate{cert}, cas...) {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.(crypto.Signer).Public()) {
			chain = [][]byte{c.Raw}
		}
	}
	if chain == nil {
		t.Fatalf("%s: no certificate for the private key", p12)
	}
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: key}}})
	tf := probe(t, endpoint("localhost", port, "https"), &collect.Env{}, Options{})
	if len(tf.Chain) == 0 || !tf.Chain[0].WSO2Default {
		t.Fatalf("served chain of %d certificates: the WSO2 default certificate was not recognised", len(tf.Chain))
	}
	if !tf.NameMatches {
		t.Errorf("the WSO2 default certificate is issued to localhost; name_matches false")
	}
	if tf.Trusted {
		t.Error("the WSO2 default certificate verified against the system roots")
	}
}
