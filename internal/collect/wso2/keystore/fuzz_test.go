package keystore

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzOpen(f *testing.F) {
	for _, p := range []string{"mi-4.1.0/repository/resources/security/wso2carbon.jks", "is-7.1.0/repository/resources/security/wso2carbon.p12"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "..", "shared", "fixtures", "wso2", p)); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Add([]byte{0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Open(data, "wso2carbon")
		_, _ = ReadUnverified(data)
	})
}
