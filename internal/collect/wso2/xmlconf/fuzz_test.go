package xmlconf

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<Server><Service><Connector port="9443" SSLEnabled="true"><SSLHostConfig protocols="+TLSv1.2"/></Connector></Service></Server>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><web-app><filter><filter-class>X</filter-class></filter></web-app>`))
	f.Add([]byte("<a><b>\x00</b>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		_ = doc.All("Connector")
		_ = doc.First("Server/Name")
	})
}
