package httpprobe

// Path categories, as the http.paths facts name them.
const (
	catAdmin  = "admin"  // admin contexts, consoles, management and admin REST APIs
	catApp    = "app"    // user-facing web apps (login, recovery, portals)
	catAPI    = "api"    // public protocol and REST endpoints
	catHealth = "health" // health, readiness and liveness endpoints
)

// Page kinds of the dynamic pages whose caching headers are examined.
const (
	pageLogin    = "login"
	pageConsole  = "console"
	pageRecovery = "recovery"
	pageAPI      = "api"
)

// Products, as the target profiles name them.
const (
	prodIS   = "wso2-is"
	prodAPIM = "wso2-apim"
	prodMI   = "wso2-mi"
)

// knownPath is one path a WSO2 product serves.
type knownPath struct {
	path     string
	category string
	page     string // page kind for the cache-header check; "" = not a page
	products []string
}

// notFoundPath cannot exist on any product; how it is answered tells a
// server's "not found" (or catch-all) page from a path that is really
// there.
const notFoundPath = "/rampart-probe-nonexistent-7f3a9c"

// Login endpoints of the opt-in default-credential check.
const (
	carbonLoginPage   = "/carbon/admin/login.jsp"
	carbonLoginAction = "/carbon/admin/login_action.jsp"
	carbonLogout      = "/carbon/admin/logout_action.jsp"
	miLogin           = "/management/login"
	miLogout          = "/management/logout"
)

// catalogue lists the paths the products serve that matter from outside:
// what must be blocked from the DMZ (admin contexts, consoles, admin and
// management APIs), the user-facing pages whose cache headers count, and
// the health endpoints. Sources: the Carbon kernel UI (login.jsp,
// login_action.jsp), identity.xml resource-access-control contexts of
// IS 7.1 and API-M 4.1/4.5, API-M's REST API versions (admin v3 in 4.1,
// v4 in 4.2+), the MI management API (port 9164) and probes (9201).
var catalogue = []knownPath{
	// Carbon management console and admin SOAP services (IS, API-M; MI
	// serves /services on its PassThrough port).
	{path: "/carbon", category: catAdmin, page: pageConsole, products: []string{prodIS, prodAPIM}},
	{path: carbonLoginPage, category: catAdmin, page: pageLogin, products: []string{prodIS, prodAPIM}},
	{path: "/services", category: catAdmin, products: []string{prodIS, prodAPIM, prodMI}},
	{path: "/services/AuthenticationAdmin?wsdl", category: catAdmin, products: []string{prodIS, prodAPIM}},
	{path: "/services/RemoteUserStoreManagerService?wsdl", category: catAdmin, products: []string{prodIS, prodAPIM}},
	{path: "/services/UserAdmin?wsdl", category: catAdmin, products: []string{prodIS, prodAPIM}},
	// MI management API.
	{path: miLogin, category: catAdmin, page: pageAPI, products: []string{prodMI}},
	{path: "/management/apis", category: catAdmin, page: pageAPI, products: []string{prodMI}},
	// IS consoles and server (admin) REST API.
	{path: "/console", category: catAdmin, page: pageConsole, products: []string{prodIS}},
	{path: "/api/server/v1/applications", category: catAdmin, products: []string{prodIS}},
	// API-M consoles, admin/publisher REST APIs and internal APIs.
	{path: "/publisher", category: catAdmin, page: pageConsole, products: []string{prodAPIM}},
	{path: "/admin", category: catAdmin, page: pageConsole, products: []string{prodAPIM}},
	{path: "/api/am/admin/v4/settings", category: catAdmin, page: pageAPI, products: []string{prodAPIM}},
	{path: "/api/am/admin/v3/settings", category: catAdmin, page: pageAPI, products: []string{prodAPIM}},
	{path: "/api/am/admin/v1/settings", category: catAdmin, page: pageAPI, products: []string{prodAPIM}},
	{path: "/api/am/publisher/v4/apis", category: catAdmin, page: pageAPI, products: []string{prodAPIM}},
	{path: "/internal/data/v1/apis", category: catAdmin, products: []string{prodAPIM}},
	{path: "/keymanager-operations/dcr/register", category: catAdmin, products: []string{prodAPIM}},
	// User-facing web apps: login, recovery, portals.
	{path: "/authenticationendpoint/login.do", category: catApp, page: pageLogin, products: []string{prodIS, prodAPIM}},
	{path: "/accountrecoveryendpoint/recoverpassword.do", category: catApp, page: pageRecovery, products: []string{prodIS, prodAPIM}},
	{path: "/myaccount", category: catApp, page: pageConsole, products: []string{prodIS}},
	{path: "/devportal", category: catApp, page: pageConsole, products: []string{prodAPIM}},
	// Public protocol endpoints and REST APIs.
	{path: "/oauth2/token", category: catAPI, products: []string{prodIS, prodAPIM}},
	{path: "/oauth2/authorize", category: catAPI, products: []string{prodIS, prodAPIM}},
	{path: "/oauth2/jwks", category: catAPI, products: []string{prodIS, prodAPIM}},
	{path: "/oauth2/token/.well-known/openid-configuration", category: catAPI, products: []string{prodIS, prodAPIM}},
	{path: "/commonauth", category: catAPI, products: []string{prodIS}},
	{path: "/samlsso", category: catAPI, products: []string{prodIS}},
	{path: "/scim2/Users", category: catAPI, products: []string{prodIS}},
	{path: "/api/am/devportal/v3/apis", category: catAPI, products: []string{prodAPIM}},
	// Health: Carbon health check API (IS, API-M), MI readiness and liveness.
	{path: "/api/health-check/v1.0/health", category: catHealth, products: []string{prodIS, prodAPIM}},
	{path: "/healthz", category: catHealth, products: []string{prodMI}},
	{path: "/liveness", category: catHealth, products: []string{prodMI}},
}
