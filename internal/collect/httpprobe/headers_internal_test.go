package httpprobe

import (
	"bufio"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// keptHeaders looks the used headers up by their canonical names: each is
// written canonical, and a response naming them in any case keeps them.
func TestUsedHeadersCanonical(t *testing.T) {
	for _, k := range usedHeaders {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("usedHeaders has %q, net/http keys it %q", k, c)
		}
	}
	raw := "HTTP/1.1 401 Unauthorized\r\nx-aspnet-version: 4.0.30319\r\nX-AspNetMvc-Version: 5.2\r\n" +
		"WWW-Authenticate: Basic realm=\"a\"\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Other: dropped\r\nContent-Length: 0\r\n\r\n"
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := keptHeaders(resp.Header)
	for k, want := range map[string][]string{"X-AspNet-Version": {"4.0.30319"}, "X-AspNetMvc-Version": {"5.2"},
		"WWW-Authenticate": {`Basic realm="a"`}, "Set-Cookie": {"a=1", "b=2"}} {
		if v := got.Values(k); !slices.Equal(v, want) {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if v := got.Get("X-Other"); v != "" || len(got) != 4 {
		t.Errorf("kept %v, want only the used headers", got)
	}
}
