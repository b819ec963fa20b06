// Package vault encrypts secrets for WSO2 Secure Vault exactly as the
// product's cipher tool (bin/ciphertool.sh -Dconfigure) does: the UTF-8
// bytes of the value are encrypted with javax.crypto.Cipher in ENCRYPT_MODE
// under the certificate's RSA public key, with the transformation given as
// -Dorg.wso2.CipherTransformation (the tool's own default is "RSA", that is
// RSA/ECB/PKCS1Padding; WSO2's products configure
// RSA/ECB/OAEPwithSHA1andMGF1Padding), and the cipher text is written as
// standard Base64 (DatatypeConverter.printBase64Binary) into the [secrets]
// table. The tool's JSON-wrapped form (Base64 of {"cipherText":…,"iv":…})
// belongs to its symmetric mode (-Dsymmetric, AES/GCM with a secret key in
// the internal keystore) and is not what asymmetric encryption writes.
//
// It also writes secret-conf.properties the way the tool does, so the
// product's runtime decrypts with the same keystore entry and algorithm.
package vault

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // the digests parse may name
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultTransformation is the cipher WSO2's products name in
// system.parameter.'org.wso2.CipherTransformation' (API-M, MI) and the one
// rampart uses when the configuration names no RSA transformation.
const DefaultTransformation = "RSA/ECB/OAEPwithSHA1andMGF1Padding"

// padding is how a transformation pads.
type padding struct {
	pkcs1   bool
	hash    crypto.Hash // OAEP digest
	mgfHash crypto.Hash // MGF1 digest (SunJCE: SHA-1 unless named)
}

// parse reads a JCE RSA transformation. SunJCE's OAEPWith<digest>AndMGF1Padding
// uses <digest> for the label hash and SHA-1 for MGF1 (its default
// MGF1ParameterSpec), which is what a product decrypting with
// Cipher.getInstance(transformation) expects.
func parse(t string) (padding, error) {
	parts := strings.Split(strings.TrimSpace(t), "/")
	if len(parts) == 0 || !strings.EqualFold(parts[0], "RSA") {
		return padding{}, fmt.Errorf("%q is not an RSA transformation (Secure Vault's asymmetric mode encrypts with the keystore's RSA key)", t)
	}
	if len(parts) == 1 {
		return padding{pkcs1: true}, nil
	}
	if len(parts) != 3 || !(strings.EqualFold(parts[1], "ECB") || strings.EqualFold(parts[1], "NONE")) {
		return padding{}, fmt.Errorf("%q: want RSA/ECB/<padding>", t)
	}
	p := strings.ToUpper(parts[2])
	switch p {
	case "PKCS1PADDING":
		return padding{pkcs1: true}, nil
	case "OAEPPADDING", "OAEPWITHSHA1ANDMGF1PADDING", "OAEPWITHSHA-1ANDMGF1PADDING":
		return padding{hash: crypto.SHA1, mgfHash: crypto.SHA1}, nil
	case "OAEPWITHSHA-224ANDMGF1PADDING":
		return padding{hash: crypto.SHA224, mgfHash: crypto.SHA1}, nil
	case "OAEPWITHSHA-256ANDMGF1PADDING":
		return padding{hash: crypto.SHA256, mgfHash: crypto.SHA1}, nil
	case "OAEPWITHSHA-384ANDMGF1PADDING":
		return padding{hash: crypto.SHA384, mgfHash: crypto.SHA1}, nil
	case "OAEPWITHSHA-512ANDMGF1PADDING":
		return padding{hash: crypto.SHA512, mgfHash: crypto.SHA1}, nil
	}
	return padding{}, fmt.Errorf("%q: padding %s is not supported (PKCS1Padding or OAEPWith<SHA-1|SHA-224|SHA-256|SHA-384|SHA-512>AndMGF1Padding)", t, parts[2])
}

// CheckTransformation says whether t is an RSA transformation this package
// can encrypt with.
func CheckTransformation(t string) error {
	_, err := parse(t)
	return err
}

// Encrypter encrypts values for one keystore entry.
type Encrypter struct {
	pub            *rsa.PublicKey
	pad            padding
	transformation string
	rand           io.Reader
}

// New returns an Encrypter for the public key of a keystore entry (its
// certificate's key) and a transformation. rand is the randomness of the
// padding (crypto/rand.Reader outside tests).
func New(pub crypto.PublicKey, transformation string, rand io.Reader) (*Encrypter, error) {
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T: Secure Vault encrypts with an RSA key", pub)
	}
	p, err := parse(transformation)
	if err != nil {
		return nil, err
	}
	if rand == nil {
		return nil, errors.New("no source of randomness")
	}
	return &Encrypter{pub: rk, pad: p, transformation: transformation, rand: rand}, nil
}

// Encrypt returns the Base64 cipher text of value, as the cipher tool
// writes it into [secrets].
func (e *Encrypter) Encrypt(value string) (string, error) {
	msg := []byte(value)
	var ct []byte
	var err error
	if e.pad.pkcs1 {
		//lint:ignore SA1019 WSO2's cipher tool and Secure Vault use RSA/ECB/PKCS1Padding unless configured otherwise: the product must decrypt what is written.
		ct, err = rsa.EncryptPKCS1v15(e.rand, e.pub, msg)
	} else {
		ct, err = rsa.EncryptOAEPWithOptions(e.rand, e.pub, msg, &rsa.OAEPOptions{Hash: e.pad.hash, MGFHash: e.pad.mgfHash})
	}
	if err != nil {
		return "", fmt.Errorf("encrypting with %s: %w", e.transformation, err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// SecretConf are the settings the cipher tool writes into
// secret-conf.properties (Utils.writeToSecureConfPropertyFile): the file
// secret repository, the keystore entry that decrypts it, the callback
// handler that asks for the keystore password at start-up, and the
// algorithm.
func SecretConf(cipherTextFile, keystorePath, keystoreType, alias, transformation string) []KV {
	const carbonDefault = "org.wso2.carbon.securevault.DefaultSecretCallbackHandler"
	return []KV{
		{"secVault.enabled", "true"},
		{"carbon.secretProvider", "org.wso2.securevault.secret.handler.SecretManagerSecretCallbackHandler"},
		{"secretRepositories", "file"},
		{"secretRepositories.file.provider", "org.wso2.securevault.secret.repository.FileBaseSecretRepositoryProvider"},
		{"secretRepositories.file.location", cipherTextFile},
		{"secretRepositories.file.algorithm", transformation},
		{"keystore.identity.location", keystorePath},
		{"keystore.identity.type", keystoreType},
		{"keystore.identity.alias", alias},
		{"keystore.identity.store.password", "identity.store.password"},
		{"keystore.identity.store.secretProvider", carbonDefault},
		{"keystore.identity.key.password", "identity.key.password"},
		{"keystore.identity.key.secretProvider", carbonDefault},
	}
}

// KV is one property.
type KV struct{ Key, Value string }
