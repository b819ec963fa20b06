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
	Status   int    `json:"status"` // 0 when the connection was refused
	// Reachable: the path answered with content (not refused, not 401/403/404).
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Origin    Origin `json:"origin"`
}

// HealthProbe is one health endpoint and its answer.
type HealthProbe struct {
	URL       string `json:"url"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Healthy   bool   `json:"healthy"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	Origin    Origin `json:"origin"`
}

// DefaultLogin records the opt-in default-credential check.
type DefaultLogin struct {
	// Attempted is false unless the scan ran with --intrusive.
	Attempted bool           `json:"attempted"`
	Attempts  []LoginAttempt `json:"attempts"`
}

// LoginAttempt is one login with a default user name and password.
type LoginAttempt struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Accepted bool   `json:"accepted"`
	Status   int    `json:"status"`
	Error    string `json:"error,omitempty"`
	Origin   Origin `json:"origin"`
}
