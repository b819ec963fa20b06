package wso2fix

import "testing"

// FuzzHSTSTargets: the web.xml/template scanner takes any bytes without a
// panic, and a literal it reports lies inside the input.
func FuzzHSTSTargets(f *testing.F) {
	f.Add([]byte("<filter><filter-class>org.apache.catalina.filters.HttpHeaderSecurityFilter</filter-class>{% for p in a.b %}<init-param><param-name>{{p.name}}</param-name><param-value>{{p.value}}</param-value></init-param>{% endfor %}<init-param><param-name>hstsEnabled</param-name><param-value>false</param-value></init-param></filter>"))
	f.Add([]byte("<filter><filter-class>x.HttpHeaderSecurityFilter</filter-class>{% if not ns.f %}<init-param><param-name>hstsEnabled</param-name><param-value>{{ k.v | default('x') }}</param-value></init-param>{% endif %}</filter><!-- <filter> -->"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tg := range hstsTargets(b) {
			if tg.start < 0 || tg.end > len(b) || tg.start > tg.end {
				t.Fatalf("target %+v outside %d bytes", tg, len(b))
			}
		}
	})
}
