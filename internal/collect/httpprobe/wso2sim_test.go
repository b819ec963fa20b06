package httpprobe_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// wso2Sim answers the way a WSO2 product (IS / API-M with the Carbon
// console, and the MI management API) does on its known paths, in two
// variants:
//
//   - weak: the product reached directly, as shipped plus the common
//     mistakes: "Server: WSO2 Carbon Server", Tomcat's error page with its
//     version, an Axis2 fault with a stack trace, no HSTS, login pages
//     without cache headers, a short JSESSIONID without HttpOnly, the
//     console, admin services and management API answering, admin/admin
//     accepted (unless password is changed), /healthz not ready.
//   - hardened: the product behind a proxy that blocks every admin
//     context, sends a neutral Server header and HSTS on every answer,
//     and no-store on the login page with a long Secure HttpOnly cookie.
//
// It records every request so tests can check what rampart sent.
type wso2Sim struct {
	hardened bool
	password string // the admin password; "admin" = the default

	mu       sync.Mutex
	requests []simRequest
}

type simRequest struct {
	Method, Path, Query, UA, Host, SNI, Auth, Cookie string
}

func (s *wso2Sim) log() []simRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]simRequest(nil), s.requests...)
}

func (s *wso2Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sni := ""
	if r.TLS != nil {
		sni = r.TLS.ServerName
	}
	s.mu.Lock()
	s.requests = append(s.requests, simRequest{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UA: r.UserAgent(), Host: r.Host, SNI: sni,
		Auth: r.Header.Get("Authorization"), Cookie: r.Header.Get("Cookie"),
	})
	s.mu.Unlock()
	if s.hardened {
		s.serveHardened(w, r)
		return
	}
	s.serveWeak(w, r)
}

const carbonLoginHTML = `<html><head><title>WSO2 Management Console</title></head><body>
<div id="loginbox"><h2>Sign-in</h2>
<form action='../admin/login_action.jsp' method="POST" target="_self">
<input type="text" id="txtUserName" name="username"/><input type="password" id="txtPassword" name="password"/>
<input type="submit" value="Sign-in"/></form></div></body></html>`

const tomcat404 = `<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head><body>
<h1>HTTP Status 404 – Not Found</h1><hr class="line" /><p><b>Type</b> Status Report</p>
<p><b>Description</b> The origin server did not find a current representation for the target resource.</p>
<hr class="line" /><h3>Apache Tomcat/9.0.41</h3></body></html>`

const axisFault = `<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Exception occurred while trying to invoke service method getWSDL</faultstring>
<detail><Exception>org.apache.axis2.AxisFault: Exception occurred while trying to invoke service method getWSDL
	at org.apache.axis2.util.Utils.getInboundFaultFromMessageContext(Utils.java:531)
	at org.apache.axis2.description.OutInAxisOperationClient.handleResponse(OutInAxisOperation.java:375)
</Exception></detail></soapenv:Fault>`

func (s *wso2Sim) serveWeak(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Server", "WSO2 Carbon Server")
	p := r.URL.Path
	switch {
	case p == "/":
		redirect(w, "/carbon/")
	case p == "/carbon" || p == "/carbon/":
		redirect(w, "/carbon/admin/index.jsp")
	case p == "/carbon/admin/index.jsp":
		h.Add("Set-Cookie", "JSESSIONID=0123456789ABCDEF; Path=/; Secure")
		redirect(w, "/carbon/admin/login.jsp")
	case p == "/carbon/admin/login.jsp":
		h.Set("Content-Type", "text/html;charset=UTF-8")
		fmt.Fprint(w, carbonLoginHTML)
	case p == "/carbon/admin/login_action.jsp" && r.Method == http.MethodPost:
		_ = r.ParseForm()
		if r.PostForm.Get("username") == "admin" && r.PostForm.Get("password") == s.password {
			h.Add("Set-Cookie", "JSESSIONID=FEDCBA9876543210; Path=/; Secure")
			redirect(w, "/carbon/admin/index.jsp?loginStatus=true")
			return
		}
		redirect(w, "/carbon/admin/login.jsp?loginStatus=false")
	case p == "/carbon/admin/logout_action.jsp":
		redirect(w, "/carbon/admin/login.jsp")
	case p == "/services" || p == "/services/":
		h.Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><h2>Deployed services</h2><ul><li>AuthenticationAdmin</li></ul></body></html>")
	case strings.HasPrefix(p, "/services/UserAdmin"):
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, axisFault)
	case strings.HasPrefix(p, "/services/"):
		h.Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="http://authentication.services.core.carbon.wso2.org"/>`)
	case p == "/management/login":
		if r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+s.password)) {
			h.Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"AccessToken":"eyJhbGciOiJSUzI1NiJ9.simulated.token"}`)
			return
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"Error":"Authentication failed"}`)
	case p == "/management/logout":
		fmt.Fprint(w, `{"Message":"Logout successful"}`)
	case strings.HasPrefix(p, "/management/"):
		w.WriteHeader(http.StatusUnauthorized)
	case p == "/api/health-check/v1.0/health":
		h.Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"health":[{"key":"dataSourceHealthChecker","value":"healthy"}]}`)
	case p == "/healthz":
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status": "not ready"}`)
	case p == "/liveness":
		h.Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": "live"}`)
	case p == "/authenticationendpoint/login.do":
		h.Set("Content-Type", "text/html")
		h.Add("Set-Cookie", "JSESSIONID=0123456789ABCDEF; Path=/authenticationendpoint; Secure")
		fmt.Fprint(w, "<html><body><form action='../commonauth' method='post'>login</form></body></html>")
	case p == "/oauth2/token":
		h.Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
	default:
		h.Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, tomcat404)
	}
}

var hardenedBlocked = []string{
	"/carbon", "/services", "/management", "/api/am/admin", "/api/am/publisher", "/publisher", "/admin",
	"/console", "/api/server", "/internal", "/keymanager-operations", "/api/health-check", "/healthz", "/liveness",
}

func (s *wso2Sim) serveHardened(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Server", "WebServer")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	p := r.URL.Path
	for _, b := range hardenedBlocked {
		if p == b || strings.HasPrefix(p, b+"/") {
			h.Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "Forbidden\n")
			return
		}
	}
	switch p {
	case "/":
		h.Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome</body></html>")
	case "/authenticationendpoint/login.do":
		h.Set("Content-Type", "text/html")
		h.Set("Cache-Control", "no-store, no-cache, must-revalidate, private")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		h.Add("Set-Cookie", "JSESSIONID="+strings.Repeat("A1", 32)+"; Path=/authenticationendpoint; Secure; HttpOnly; SameSite=Strict")
		fmt.Fprint(w, "<html><body><form action='../commonauth' method='post'>login</form></body></html>")
	case "/oauth2/token":
		h.Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
	case "/oauth2/jwks":
		h.Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"keys":[]}`)
	default:
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "Not Found\n")
	}
}

func redirect(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// startSim starts a loopback server for sim: HTTPS (httptest's own
// certificate) or plain HTTP.
func startSim(t testing.TB, sim *wso2Sim, tlsOn bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(sim)
	// Handshakes the client abandons (a spare connection the transport
	// dialled, closed at the end of the probe) are not worth a log line.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}
