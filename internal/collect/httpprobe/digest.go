package httpprobe

import (
	"bytes"
	"encoding/json"

	"github.com/rampart-sec/rampart/internal/facts"
)

// scanBody records what one response gives away (headers, and the body
// when it is an error or default page, or holds a stack trace) and the
// cookies it sets.
func (p *prober) scanBody(a *answer, h *hop, body []byte, pageScan bool) {
	origin := facts.Origin{Endpoint: h.URL}
	for _, d := range headerDisclosures(h.Header) {
		a.disclosures = append(a.disclosures, facts.Disclosure{URL: h.URL, Where: d[0], Value: d[1], Origin: origin})
	}
	for _, v := range BodyDisclosures(body, pageScan || h.Status >= 400) {
		a.disclosures = append(a.disclosures, facts.Disclosure{URL: h.URL, Where: "body", Value: v, Origin: origin})
	}
	a.cookies = append(a.cookies, cookiesOf(h)...)
}

// digest keeps what later steps need of an answer's body (its signature,
// whether it is the Carbon login form, a JSON health status) and drops
// the body, so memory stays bounded by the requests in flight.
func digest(a *answer) {
	a.sig = makeSignature(a)
	a.carbonLogin = bytes.Contains(a.body, []byte("login_action.jsp"))
	a.productPage = ProductPage(a.body)
	a.jsonStatus = JSONStatus(a.body)
	a.body = nil
}

// Product pages ProductPage recognises.
const (
	pageCarbonLogin = "the Carbon management console login page"
	pageWSDL        = "a WSDL"
)

// maxProductScan bounds how much of a body ProductPage looks at.
const maxProductScan = 64 << 10

// ProductPage names the product page a body is, whatever path it answered
// on: the Carbon management console's login page (its form posts to
// login_action.jsp, in a WSO2 page) or a WSDL (WSDL 1.1 definitions or
// WSDL 2.0 description), as the admin services serve. "" for anything
// else. A server that answers every path with one of these does expose it.
func ProductPage(body []byte) string {
	b := body[:min(len(body), maxProductScan)]
	lower := bytes.ToLower(b)
	switch {
	case bytes.Contains(b, []byte("http://schemas.xmlsoap.org/wsdl/")) && bytes.Contains(b, []byte("definitions")),
		bytes.Contains(b, []byte("http://www.w3.org/ns/wsdl")) && bytes.Contains(b, []byte("description")):
		return pageWSDL
	case bytes.Contains(b, []byte("login_action.jsp")) &&
		(bytes.Contains(lower, []byte("wso2")) || bytes.Contains(lower, []byte("management console")) || bytes.Contains(lower, []byte("carbon"))):
		return pageCarbonLogin
	}
	return ""
}

// JSONStatus returns the "status" member of a JSON object body ("UP",
// "ready"), or "" when the body is not such an object.
func JSONStatus(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return ""
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return ""
	}
	for _, k := range []string{"status", "Status", "STATUS"} {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil {
			return clip(s)
		}
	}
	return ""
}
