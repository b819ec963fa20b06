package vault

import (
	"crypto/rsa"
	"encoding/base64"
)

// Decrypt reverses Encrypt with the private key, for the tests (the
// product decrypts what rampart writes; rampart itself never does).
func Decrypt(priv *rsa.PrivateKey, transformation, b64 string) (string, error) {
	p, err := parse(transformation)
	if err != nil {
		return "", err
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	var pt []byte
	if p.pkcs1 {
		//lint:ignore SA1019 reads back what the product's PKCS1Padding transformation wrote (the tests).
		pt, err = rsa.DecryptPKCS1v15(nil, priv, ct)
	} else {
		pt, err = priv.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: p.hash, MGFHash: p.mgfHash})
	}
	return string(pt), err
}
