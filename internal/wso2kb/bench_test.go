package wso2kb

import "testing"

// BenchmarkFirstUse is what the first WSO2 scan of a process pays for the
// product knowledge: parsing products.yaml, resolving one layout and
// compiling the patterns a scan uses (go test -bench . ./internal/wso2kb).
func BenchmarkFirstUse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, err := parse(productsYAML, false)
		if err != nil {
			b.Fatal(err)
		}
		l, err := c.Layout("wso2-apim", "4.5.0")
		if err != nil {
			b.Fatal(err)
		}
		l.SecretKeySegment()
		l.SecretRoot()
		l.SystemAccount()
		l.DatasourceURLKey()
		l.OffWhenFalse()
		l.OffWhenTrue()
		c.VersionText()
		c.DirName()
	}
}
