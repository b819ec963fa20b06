package httpprobe

import (
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// The matchers of banner.go run their regular expressions only on texts
// that hold words every match holds. These are the regular expressions
// run on every text, as before those checks: what both find must be the
// same, on every text.

func oracleDisclosingServer(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	return versionToken().MatchString(v) || backendProduct().MatchString(v)
}

func oracleHeaderDisclosures(h http.Header) [][2]string {
	var out [][2]string
	for _, v := range h.Values("Server") {
		if oracleDisclosingServer(v) {
			out = append(out, [2]string{"header:Server", clip(v)})
		}
	}
	for _, name := range platformHeaders {
		for _, v := range h.Values(name) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, [2]string{"header:" + name, clip(v)})
			}
		}
	}
	for _, v := range h.Values("Via") {
		if versionToken().MatchString(viaProducts(v)) {
			out = append(out, [2]string{"header:Via", clip(v)})
		}
	}
	return out
}

func oracleBodyDisclosures(body []byte, banners bool) []string {
	if len(body) == 0 {
		return nil
	}
	s := string(body)
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		v = clip(strings.Join(strings.Fields(v), " "))
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if banners {
		for _, m := range bodyBanner().FindAllString(s, 8) {
			add(m)
		}
	}
	if m := javaFrame().FindString(s); m != "" {
		add("Java stack trace: " + strings.TrimSpace(m))
	} else if m := javaException().FindString(s); m != "" {
		add("Java exception: " + strings.TrimLeft(m, "> \t"))
	}
	return out
}

// maxHeaderText: texts up to this long are tried as header values too.
const maxHeaderText = 1024

// agree fails t unless the matchers and the oracle find the same in text,
// as a body and (when short enough) as a Server and a Via header; it
// returns whether anything was found.
func agree(t testing.TB, text string) bool {
	t.Helper()
	found := false
	if len(text) <= maxHeaderText {
		if got, want := DisclosingServer(text), oracleDisclosingServer(text); got != want {
			t.Fatalf("DisclosingServer(%q) = %v, the regular expressions say %v", text, got, want)
		}
		h := http.Header{"Server": {text}, "Via": {text}, "X-Powered-By": {text}}
		if got, want := headerDisclosures(h), oracleHeaderDisclosures(h); !slices.Equal(got, want) {
			t.Fatalf("headerDisclosures(%q) = %q, the regular expressions say %q", text, got, want)
		}
		found = oracleDisclosingServer(text)
	}
	for _, banners := range []bool{true, false} {
		got, want := BodyDisclosures([]byte(text), banners), oracleBodyDisclosures([]byte(text), banners)
		if !slices.Equal(got, want) {
			t.Fatalf("BodyDisclosures(%.200q, %v) = %q, the regular expressions say %q", text, banners, got, want)
		}
		found = found || len(want) > 0
	}
	return found
}

// bannerCorpus is every text at hand: the pages and fuzz seeds of this
// package, the WSO2 products' own files (configuration, scripts, pages,
// with their product names and versions), and texts made to sit on the
// edges of the checks (case, the two non-ASCII letters (?i) folds into
// ASCII, words split, frames without a file).
func bannerCorpus(t *testing.T) []string {
	t.Helper()
	texts := []string{
		"", " ", "nginx", "nginx/1.22.1", "NGINX/1.25.3 (Ubuntu)", "Apache", "Apache/2.4.41 (Unix) OpenSSL/1.1.1",
		"Apache-Coyote/1.1", "Jetty(9.4.1.v20170120)", "jetty(v9.4)", "Microsoft-IIS/10.0", "WSO2 Carbon Server",
		"wso2 carbon server", "WSO2-PassThrough-HTTP", "Server", "WebServer", "benchserver", "envoy", "cloudflare",
		"1.1 varnish (Varnish/6.0)", "1.1 proxy", "HTTP/1.1 gateway", "Jboſs", "JBOſſ EAP", "\u212aestrel/2",
		"webſphere", "Tomcat", "tomcaT/9", "(", "/", "a/", "a/1", "a(1.2)", "a(1.x)", "x/v", "x/v1",
		"<hr><center>nginx/1.22.1</center>", "<address>Apache/2.4.57 (Debian) Server at x Port 80</address>",
		"<h3>Apache Tomcat/9.0.41</h3>", "Powered by PHP/8.1.2", "php 7.4.3", "Express 4.18.2", "caddy v2.7.6",
		"WSO2 Identity Server 7.1.0", "WSO2 API Manager-4.5.0", "WSO2 Micro Integrator v4.2.0", "WSO2 Carbon 4.9.0",
		"weblogic server 14.1.1.0", "WebLogic Server 12.2.1.4", "openresty/1.21.4.1", "Tengine/2.3.3", "lighttpd/1.4.59",
		"Microsoft-HTTPAPI/2.0", "Undertow/2", "GlassFish 5.0", "Payara 5.2022.3", "TomEE/8.0.6",
		"java.lang.NullPointerException\n\tat org.wso2.carbon.Foo.bar(Foo.java:12)\n",
		"\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
		"   at sun.reflect.GeneratedMethodAccessor1.invoke(Unknown Source)", "at a.b(C.kt:1)", "at a.b(C.scala:1)",
		"at a.b(C.groovy:10)", "at a.b(C.java)", "at a.b(C.java:x)", "at a(B.java:1)",
		"<pre>javax.servlet.ServletException: boom</pre>", ">jakarta.ws.rs.NotFoundException", "Caused by: io.netty.Error",
		"Caused by:\tnet.sf.X$YError", "com.example.Oops", "org.example.SomethingException!", "404 Error", "Exception",
		"org. Exception", "<p>Error: com.foo.BarError</p>", ">com.foo.BarError",
	}
	for _, root := range []string{"testdata", testenv.WSO2Fixtures(t)} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil || info.Size() > 1<<20 {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.HasPrefix(string(data), "go test fuzz v1\n") {
				// A seed: its quoted values.
				for _, line := range strings.Split(string(data), "\n")[1:] {
					if _, arg, ok := strings.Cut(line, "("); ok {
						if v, err := strconv.Unquote(strings.TrimSuffix(arg, ")")); err == nil {
							texts = append(texts, v)
						}
					}
				}
				return nil
			}
			// The first corpusText bytes of a file: the regular
			// expressions run on every text are slow.
			texts = append(texts, string(data[:min(len(data), corpusText)]))
			return nil
		})
		if err != nil {
			t.Fatalf("corpus %s: %v", root, err)
		}
	}
	return texts
}

// corpusText is the largest text of the corpus.
const corpusText = 2 << 10

func TestBannerMatchersAgreeOnCorpus(t *testing.T) {
	texts := bannerCorpus(t)
	found := 0
	for _, text := range texts {
		if agree(t, text) {
			found++
		}
	}
	// The corpus must exercise the matches, not only the misses.
	if found < 40 {
		t.Errorf("%d of %d texts disclose anything; the corpus does not exercise the matchers", found, len(texts))
	}
	t.Logf("%d texts, %d with disclosures", len(texts), found)
}

// The same on texts made from the corpus by changing case, putting in the
// letters (?i) folds into ASCII, cutting and joining: a seeded random
// walk, the same on every run.
func TestBannerMatchersAgreeOnVariants(t *testing.T) {
	texts := bannerCorpus(t)
	rng := rand.New(rand.NewPCG(14, 6))
	pieces := []string{"\u212a", "\u017f", "/", "(", ")", " ", "\n", "\t", ">", "at ", ".java:", "1", "2.", "v", "Error", "Exception", "java.", "wso2", "Apache ", "nginx"}
	for i := range 600 {
		s := texts[rng.IntN(len(texts))]
		if len(s) > 512 {
			start := rng.IntN(len(s) - 512)
			s = s[start : start+512]
		}
		b := []byte(s)
		for range 1 + rng.IntN(4) {
			switch k := rng.IntN(5); {
			case k == 0 && len(b) > 0: // flip the case of a run of letters
				at := rng.IntN(len(b))
				for j := at; j < min(len(b), at+8); j++ {
					if c := b[j] | 0x20; 'a' <= c && c <= 'z' {
						b[j] ^= 0x20
					}
				}
			case k == 1: // put a piece in
				at := rng.IntN(len(b) + 1)
				b = slices.Insert(b, at, []byte(pieces[rng.IntN(len(pieces))])...)
			case k == 2 && len(b) > 1: // cut
				at := rng.IntN(len(b))
				b = slices.Delete(b, at, min(len(b), at+1+rng.IntN(16)))
			case k == 3: // join another text's start
				o := texts[rng.IntN(len(texts))]
				b = append(b, o[:min(len(o), 256)]...)
			default: // replace s or k by its non-ASCII fold
				for j := range b {
					if b[j] == 's' && rng.IntN(2) == 0 {
						b = slices.Replace(b, j, j+1, []byte("\u017f")...)
						break
					}
					if (b[j] == 'k' || b[j] == 'K') && rng.IntN(2) == 0 {
						b = slices.Replace(b, j, j+1, []byte("\u212a")...)
						break
					}
				}
			}
		}
		agree(t, string(b))
		if t.Failed() {
			t.Fatalf("variant %d", i)
		}
	}
}
