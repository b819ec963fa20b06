package facts

// Product is a WSO2 installation (Identity Server, API Manager, Micro
// Integrator) as its own files configure it. Values are the effective ones:
// deployment.toml overlaid on the shipped default.json, infer.json and
// key-mappings.json, with the origin of each.
type Product struct {
	// Profile is wso2-is, wso2-apim or wso2-mi.
	Profile string `json:"profile"`
	// DetectedProfile is the profile the files show, when a forced one
	// (--profile, an inventory's profile) differs from it.
	DetectedProfile string `json:"detected_profile,omitempty"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	Home            string `json:"home"`
	// UpdateLevel is the WSO2 update level applied (-1 when unknown;
	// UpdateLevelError then says why).
	UpdateLevel      int    `json:"update_level"`
	UpdateLevelError string `json:"update_level_error,omitempty"`
	// ConfigFile is the deployment.toml read, relative to Home.
	ConfigFile string `json:"config_file"`
	// DefaultsIncomplete: the files lack the product's complete, merged
	// default.json (a source reconstruction, a deployment.toml without the
	// rest of the pack). Values only those defaults hold are the documented
	// product defaults where one is known (their origin says so); otherwise
	// unknown, and the rules needing them end in error.
	DefaultsIncomplete bool `json:"defaults_incomplete"`
	// Settings is the effective configuration as flat dotted keys, for
	// custom rules ("transport.https.properties.server").
	Settings map[string]Setting `json:"settings"`

	TLSListeners []TLSListener `json:"tls_listeners"`
	JVM          JVM           `json:"jvm"`
	Keystores    []Keystore    `json:"keystores"`
	// Secrets are every password, key and token in the configuration.
	Secrets         []Secret    `json:"secrets"`
	SecureVault     SecureVault `json:"secure_vault"`
	SuperAdmin      SuperAdmin  `json:"super_admin"`
	ManagementUsers []User      `json:"management_users"`
	// SystemAccounts are the user names the product uses for its own
	// internal calls (API-M gateway environments, event hubs).
	SystemAccounts []Setting    `json:"system_accounts"`
	AppAuth        AppAuth      `json:"app_auth"`
	Encryption     Encryption   `json:"encryption"`
	UserStores     []UserStore  `json:"user_stores"`
	Datasources    []Datasource `json:"datasources"`
	// AdminRoles are the roles allowed to log in to the management console,
	// where the files declare them.
	AdminRoles []Setting `json:"admin_roles"`
	// CallbackRegexes are the password-recovery and self-registration
	// callback URL patterns.
	CallbackRegexes []Setting      `json:"callback_regexes"`
	SessionCleanup  SessionCleanup `json:"session_cleanup"`
	// SessionIDLength is Tomcat's sessionIdLength in bytes (0 = Tomcat's
	// default of 16).
	SessionIDLength int    `json:"session_id_length"`
	SessionIDOrigin Origin `json:"session_id_origin"`
	// ServerHeaders are the configured Server header values per connector.
	ServerHeaders []Setting  `json:"server_headers"`
	WebApps       []WebApp   `json:"webapps"`
	Logging       Logging    `json:"logging"`
	Ports         PortPlan   `json:"ports"`
	JMX           JMX        `json:"jmx"`
	Hostname      Setting    `json:"hostname"`
	Proxy         Proxy      `json:"proxy"`
	Clustering    Clustering `json:"clustering"`
	// OutboundVerificationOff lists settings that disable certificate or
	// hostname verification of outbound TLS connections.
	OutboundVerificationOff []Setting `json:"outbound_verification_off"`
	HealthCheck             Setting   `json:"health_check"`
	// SenderHostnameVerifiers are the HostnameVerifier settings of the
	// product's outbound HTTPS senders (the API-M and MI PassThrough
	// sender): Strict, DefaultAndLocalhost or AllowAll.
	SenderHostnameVerifiers []Setting `json:"sender_hostname_verifiers"`
	// Notes are caveats of the collection: defaults that could not be
	// read, rendered files used in place of missing ones.
	Notes []string `json:"notes"`
	// Java is the JDK the product is run with, when it can be told from
	// the files (a bundled JDK) or the running process.
	Java JavaRuntime `json:"java"`
	// MachineMemoryMB is the physical memory of the machine the product
	// was found on (0 when scanned as a bare directory).
	MachineMemoryMB int64 `json:"machine_memory_mb"`
}

// TLSListener is one TLS transport the product configures: the Tomcat
// HTTPS connector, the PassThrough listener and sender, the MI internal
// API, the API-M binary receiver.
type TLSListener struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	// Protocols enabled, named TLSv1.0 ... TLSv1.3, SSLv3, SSLv2Hello.
	Protocols []string `json:"protocols"`
	Origin    Origin   `json:"origin"`
	// Ciphers configured (IANA names); empty means the JSSE defaults apply.
	Ciphers       []string `json:"ciphers"`
	CiphersOrigin Origin   `json:"ciphers_origin"`
	// Unresolved says which list is written as a reference the files do
	// not answer ($env{VAR}, a $sys{prop} the start script does not set);
	// that list is then empty and unknown.
	Unresolved string `json:"unresolved,omitempty"`
	// NoSetting: the product has no setting for this listener's protocols
	// or ciphers (API-M's WebSub HTTPS endpoint); the JVM's defaults always
	// apply.
	NoSetting bool `json:"no_setting,omitempty"`
}

// JVM is the Java command line a product is started with: from its start
// script (file checks) or from /proc (host checks).
type JVM struct {
	// Source is the script or /proc/PID/cmdline read; empty when none was found.
	Source string `json:"source"`
	// Properties are the -D system properties set, by name.
	Properties map[string]Setting `json:"properties"`
	// Options are the other options (-Xmx1024m, -agentlib:jdwp=...).
	Options []Setting `json:"options"`

	DHKeySize                   int    `json:"dh_key_size"`                   // jdk.tls.ephemeralDHKeySize, 0 = unset
	RejectClientRenegotiation   string `json:"reject_client_renegotiation"`   // "true", "false" or ""
	HostnameVerifier            string `json:"hostname_verifier"`             // httpclient.hostnameVerifier
	DisableHostnameVerification string `json:"disable_hostname_verification"` // org.opensaml...disableHostnameVerification
	HeapMaxMB                   int64  `json:"heap_max_mb"`
	HeapMinMB                   int64  `json:"heap_min_mb"`
	DebugAgent                  bool   `json:"debug_agent"` // jdwp / -Xdebug
	JMXRemote                   bool   `json:"jmx_remote"`  // -Dcom.sun.management.jmxremote
}

// Keystore is one keystore or truststore the configuration names.
type Keystore struct {
	// Role is primary, tls, internal or truststore.
	Role        string `json:"role"`
	File        string `json:"file"`
	Type        string `json:"type"` // JKS, PKCS12
	Password    Secret `json:"password"`
	KeyPassword Secret `json:"key_password"`
	Alias       string `json:"alias"`
	// Opened is true when the file was read with the configured password;
	// Error says why not.
	Opened  bool       `json:"opened"`
	Error   string     `json:"error,omitempty"`
	Entries []KeyEntry `json:"entries"`
	Origin  Origin     `json:"origin"`
}

// KeyEntry is one entry of a keystore.
type KeyEntry struct {
	Alias string `json:"alias"`
	// Kind is private_key or trusted_cert.
	Kind        string      `json:"kind"`
	Certificate Certificate `json:"certificate"`
	// ChainLength of a private-key entry.
	ChainLength int    `json:"chain_length"`
	Origin      Origin `json:"origin"`
	// Error says why the entry's certificate could not be read (a private
	// key whose certificate is missing); Certificate is then empty.
	Error string `json:"error,omitempty"`
}

// SecureVault is the [secrets] table and the cipher-text it holds.
type SecureVault struct {
	Configured bool `json:"configured"`
	// Entries are the aliases defined; Form is "encrypted" once ciphertool
	// ran, "plain" for a "[value]" still waiting to be encrypted.
	Entries []Secret `json:"entries"`
}

// SuperAdmin is the bootstrap administrator account.
type SuperAdmin struct {
	Username           Setting `json:"username"`
	Password           Secret  `json:"password"`
	CreateAdminAccount bool    `json:"create_admin_account"`
}

// User is a configured account (MI management and internal API users).
type User struct {
	Username Setting `json:"username"`
	Password Secret  `json:"password"`
}

// AppAuth is the client authentication of the bundled web apps:
// app_password and its SHA-256 hash.
type AppAuth struct {
	Password Secret  `json:"password"`
	Hash     Setting `json:"hash"`
	// HashVerifiable is true when the password is written in the file, so
	// its hash can be checked; HashMatches is true when hash equals
	// SHA-256(app_password).
	HashVerifiable bool `json:"hash_verifiable"`
	HashMatches    bool `json:"hash_matches"`
}

// Encryption is the internal symmetric encryption configuration.
type Encryption struct {
	Key      Secret  `json:"key"`
	Provider Setting `json:"provider"`
}

// UserStore is the primary or a secondary user store.
type UserStore struct {
	Name  string `json:"name"` // primary, or the secondary store's domain
	Type  string `json:"type"` // read_only_ldap, database_unique_id, ...
	Class string `json:"class"`
	// External is true for LDAP and Active Directory stores.
	External bool   `json:"external"`
	ReadOnly bool   `json:"read_only"`
	URL      string `json:"url"`
	// TLS is true for ldaps:// or StartTLS.
	TLS            bool   `json:"tls"`
	ConnectionName string `json:"connection_name"`
	Password       Secret `json:"password"`
	Origin         Origin `json:"origin"`
	// Disabled is true for a secondary store its file turns off
	// (<Property name="Disabled">true</Property>): the product does not
	// connect to it.
	Disabled bool `json:"disabled"`
	// Error says why a secondary store's file could not be read; the
	// other fields are then unknown.
	Error string `json:"error,omitempty"`
}

// Datasource is one configured database connection.
type Datasource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Driver is h2, mysql, mariadb, postgresql, sqlserver, oracle, db2.
	Driver   string `json:"driver"`
	Embedded bool   `json:"embedded"` // H2 and other in-process databases
	Username string `json:"username"`
	Password Secret `json:"password"`
	// TLS is true when the URL asks for an encrypted connection; TLSParam
	// names the parameter that says so (or says it is off).
	TLS      bool   `json:"tls"`
	TLSParam string `json:"tls_param"`
	Origin   Origin `json:"origin"`
}

// SessionCleanup is [session_data.cleanup].
type SessionCleanup struct {
	ChunkSize Setting `json:"chunk_size"`
	Enabled   Setting `json:"enabled"`
}

// WebApp is one deployed web application's security filters (web.xml).
type WebApp struct {
	Name            string `json:"name"`
	File            string `json:"file"`
	HSTSEnabled     bool   `json:"hsts_enabled"`
	HSTSMaxAge      int64  `json:"hsts_max_age"`
	CachePrevention bool   `json:"cache_prevention"`
	Origin          Origin `json:"origin"`
}

// Logging is log4j2.properties.
type Logging struct {
	File      string     `json:"file"`
	Appenders []Appender `json:"appenders"`
}

// Appender is one log4j2 appender.
type Appender struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // RollingFile, Console, File, ...
	FileName    string   `json:"file_name"`
	FilePattern string   `json:"file_pattern"`
	Policies    []string `json:"policies"` // TimeBasedTriggeringPolicy, SizeBasedTriggeringPolicy
	// MaxBackups is DefaultRolloverStrategy max (0 = unset).
	MaxBackups int    `json:"max_backups"`
	Pattern    string `json:"pattern"` // layout pattern
	Origin     Origin `json:"origin"`
}

// PortPlan is the product's ports: the offset and each listener's port.
type PortPlan struct {
	Offset int `json:"offset"`
	// DefaultOffset is the offset the product ships with (0; 10 for MI).
	DefaultOffset int           `json:"default_offset"`
	OffsetOrigin  Origin        `json:"offset_origin"`
	Listeners     []PortSetting `json:"listeners"`
	// Unresolved says which port setting the files cannot tell (a
	// reference they do not answer, a value that is not a number).
	Unresolved string `json:"unresolved,omitempty"`
}

// PortSetting is one listener's effective port and its shipped default.
type PortSetting struct {
	Name        string `json:"name"`
	Port        int    `json:"port"`
	DefaultPort int    `json:"default_port"`
	Origin      Origin `json:"origin"`
}

// JMX is the remote JMX (RMI) configuration.
type JMX struct {
	Enabled      bool   `json:"enabled"`
	RegistryPort int    `json:"registry_port"`
	ServerPort   int    `json:"server_port"`
	Hostname     string `json:"hostname"`
	Origin       Origin `json:"origin"`
	// Unresolved says why whether the RMI server starts cannot be told.
	Unresolved string `json:"unresolved,omitempty"`
}

// Proxy is the reverse-proxy configuration.
type Proxy struct {
	ProxyPort   Setting `json:"proxy_port"`
	ProxyName   Setting `json:"proxy_name"`
	ContextPath Setting `json:"context_path"`
}

// Clustering is the cluster membership configuration.
type Clustering struct {
	Enabled bool     `json:"enabled"`
	Scheme  string   `json:"scheme"` // wka, multicast, kubernetes, ...
	Members []string `json:"members"`
	// Ports are the clustering (Hazelcast) ports, 4000 by default.
	Ports  []int  `json:"ports"`
	Origin Origin `json:"origin"`
}

// JavaRuntime is a JDK.
type JavaRuntime struct {
	Version string `json:"version"`
	Major   int    `json:"major"`
	Vendor  string `json:"vendor"`
	Origin  Origin `json:"origin"`
}

// NamespaceSpec says that product facts come from a product directory's files; file checks read them, and host checks the homes found running.
func (Product) NamespaceSpec() Spec {
	return Spec{Targets: []string{"directory"}, Checks: []string{"file", "host"}}
}
