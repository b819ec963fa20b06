package facts

// HTTP is what a live HTTP(S) endpoint shows a client at the scan's vantage
// point: headers, cookies, which known paths answer, health endpoints.
type HTTP struct {
	URL string `json:"url"` // base URL probed
	// HTTPS is true when the base URL is served over TLS.
	HTTPS bool `json:"https"`
	// Disclosures are product or version names seen in headers, error pages
	// or default pages (Server: WSO2 Carbon Server, X-Powered-By, stack
	// traces, nginx/1.22.1).
	Disclosures []Disclosure `json:"disclosures"`
	// ServerHeaders are the distinct Server header values seen.
	ServerHeaders []string `json:"server_headers"`
	HSTS          HSTS     `json:"hsts"`
	// Pages are the dynamic and login pages probed for cache headers.
	Pages []Page `json:"pages"`
	// Cookies are the cookies set by the pages probed.
	Cookies []Cookie `json:"cookies"`
	// Paths are the known product paths probed (admin contexts, consoles,
	// APIs) and how each answered.
	Paths []PathProbe `json:"paths"`
	// Health are the product's health endpoints and how they answered.
	Health []HealthProbe `json:"health"`
	// DefaultLogin is the opt-in login attempt with default credentials.
	DefaultLogin DefaultLogin `json:"default_login"`
	// RootStatus is the status the base URL answered with (after
	// same-host redirects).
	RootStatus int `json:"root_status"`
	// NotFoundStatus is the status a path that cannot exist answered with:
	// 404 on most servers, 200 on a catch-all. Paths that answer exactly
	// like it are marked catch_all and not counted as reachable.
	NotFoundStatus int `json:"not_found_status"`
	// TLSClient names the TLS client the HTTPS requests went through:
	// "crypto/tls" (Go's), or "tlswire" (rampart's own TLS 1.0-1.2 client,
	// used only when Go's found no protocol version or cipher suite in
	// common with the server, as with DHE-only servers). Empty over HTTP.
	TLSClient string `json:"tls_client,omitempty"`
}

// Disclosure is one piece of product or version information given away.
type Disclosure struct {
	URL    string `json:"url"`
	Where  string `json:"where"` // header:Server, header:X-Powered-By, body
	Value  string `json:"value"`
	Origin Origin `json:"origin"`
}

// HSTS is the Strict-Transport-Security header as served.
type HSTS struct {
	Present           bool   `json:"present"`
	MaxAge            int64  `json:"max_age"`
	IncludeSubDomains bool   `json:"include_subdomains"`
	Preload           bool   `json:"preload"`
	Raw               string `json:"raw,omitempty"`
	URL               string `json:"url,omitempty"`
	// Problem says why a header that is present does not count (no
	// max-age, a directive given twice), as RFC 6797 section 6.1 has a
	// browser ignore such a header. Empty when the header is valid.
	Problem string `json:"problem,omitempty"`
	// MissingOn lists the probed web app pages (the paths that also appear
	// in pages) that answered over HTTPS with content but without a valid
	// Strict-Transport-Security header: HSTS must be set by every
	// application, not only on the base URL.
	MissingOn []string `json:"missing_on"`
}

// Page is one dynamic page and the caching headers it answered with.
type Page struct {
	URL          string `json:"url"`
	Path         string `json:"path"`
	Kind         string `json:"kind"` // login, console, api, recovery
	Status       int    `json:"status"`
	CacheControl string `json:"cache_control"`
	Pragma       string `json:"pragma"`
	Expires      string `json:"expires"`
	NoStore      bool   `json:"no_store"`
	Origin       Origin `json:"origin"`
}

// Cookie is one Set-Cookie as received. The value is never kept: only its
// length, which is what session-ID entropy checks need.
type Cookie struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Length   int    `json:"length"` // characters in the value
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"http_only"`
	SameSite string `json:"same_site"` // Strict, Lax, None, or ""
	Session  bool   `json:"session"`   // a session-ID cookie (JSESSIONID and the like)
	Origin   Origin `json:"origin"`
}

// PathProbe is one known path and how it answered.
type PathProbe struct {
	Path string `json:"path"`
	// Category is admin (/services, /carbon, management APIs), console,
	// api, health, or app.
	Category string `json:"category"`
	// Page is the kind of dynamic page the path serves when it answers
	// (login, console, api, recovery), whose cache headers HTTP-003 judges;
	// empty for other paths.
	Page   string `json:"page,omitempty"`
	Status int    `json:"status"` // 0 when the connection was refused
	// Reachable: the path answered with content (not refused, not 401/403/404).
	Reachable bool `json:"reachable"`
	// Error says why the request failed; Cause classifies it (see
	// Status.Cause).
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
	Origin Origin `json:"origin"`
	// URL is the URL requested; FinalURL where same-host redirects ended
	// (empty when there was none), Location an off-host redirect target
	// that was not followed.
	URL       string `json:"url,omitempty"`
	FinalURL  string `json:"final_url,omitempty"`
	Location  string `json:"location,omitempty"`
	Redirects int    `json:"redirects"`
	// AuthRequired: the path answered 401 (or 407), asking for
	// credentials. The application is there, only guarded by a login, so
	// the path is not blocked at this vantage point.
	AuthRequired bool `json:"auth_required"`
	// CatchAll: the answer is the same as for a path that cannot exist
	// (a proxy's catch-all page), so it says nothing about this path:
	// whether the path is blocked cannot be told (unless ProductPage says
	// the answer is the product's own page).
	CatchAll bool `json:"catch_all"`
	// ProductPage names the product page the answer is, recognised from
	// its body whatever the path ("the Carbon management console login
	// page", "a WSDL"); such an answer is reachable even when it is the
	// server's answer to every path.
	ProductPage string `json:"product_page,omitempty"`
	// Products are the products the path belongs to (wso2-is, wso2-apim,
	// wso2-mi); empty for paths declared in the inventory.
	Products  []string `json:"products"`
	LatencyMS int64    `json:"latency_ms"`
}

// HealthProbe is one health endpoint and its answer.
type HealthProbe struct {
	URL       string `json:"url"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Healthy   bool   `json:"healthy"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"` // classifies Error (see Status.Cause)
	Origin    Origin `json:"origin"`
	// Declared is true for paths from the inventory's health_paths; the
	// products' default health paths are listed only when they answered.
	Declared bool `json:"declared"`
	// State is the "status" value of a JSON health answer ("ready",
	// "UP"), when there is one.
	State string `json:"state,omitempty"`
}

// DefaultLogin records the opt-in default-credential check.
type DefaultLogin struct {
	// Attempted is false unless the scan ran with --intrusive.
	Attempted bool           `json:"attempted"`
	Attempts  []LoginAttempt `json:"attempts"`
	// Reason says why no attempt was made: not --intrusive, or no login
	// endpoint answered.
	Reason string `json:"reason,omitempty"`
}

// LoginAttempt is one login with a default user name and password.
type LoginAttempt struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Accepted bool   `json:"accepted"`
	Status   int    `json:"status"`
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"` // classifies Error (see Status.Cause)
	Origin   Origin `json:"origin"`
	// Kind is the login endpoint: carbon-console or mi-management-api.
	Kind string `json:"kind,omitempty"`
}

// NamespaceSpec says that http facts come from a live endpoint; probe checks read them.
func (HTTP) NamespaceSpec() Spec {
	return Spec{Targets: []string{"endpoint"}, Checks: []string{"probe"}}
}
