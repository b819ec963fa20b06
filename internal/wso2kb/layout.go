package wso2kb

// Layout is what rampart knows about one product at one version: the
// common knowledge, the product's, and every change its described versions
// up to that one made (products.yaml says how each field is used). A
// Layout is shared by every scan of that product line and never changed
// after it is built.
type Layout struct {
	Name           string   `yaml:"name"`
	Names          []string `yaml:"names"`
	Conf           string   `yaml:"conf"`
	TrustUserAgent bool     `yaml:"trust_user_agent"`
	TOMLTables     []string `yaml:"toml_tables"`
	StartScripts   []string `yaml:"start_scripts"`

	Resources   string      `yaml:"resources"`
	Mapper      Mapper      `yaml:"mapper"`
	BuildInputs BuildInputs `yaml:"build_inputs"`
	Files       Files       `yaml:"files"`

	Templates           string `yaml:"templates"`
	WebappTemplates     string `yaml:"webapp_templates"`
	Webapps             string `yaml:"webapps"`
	WebXML              string `yaml:"web_xml"`
	ConsoleWebXML       string `yaml:"console_web_xml"`
	SecondaryUserStores string `yaml:"secondary_userstores"`

	OffsetKey        string                    `yaml:"offset_key"`
	DefaultOffset    int                       `yaml:"default_offset"`
	SystemProperties map[string]SystemProperty `yaml:"system_properties"`
	Ports            []Port                    `yaml:"ports"`
	Listeners        map[string]*Listener      `yaml:"listeners"`

	TomcatServerHeaders []ServerHeader `yaml:"tomcat_server_headers"`
	TomcatDefaultServer string         `yaml:"tomcat_default_server"`
	Passthrough         *Passthrough   `yaml:"passthrough"`

	JMX       JMX       `yaml:"jmx"`
	Updates   Updates   `yaml:"updates"`
	JDKDirs   []string  `yaml:"jdk_dirs"`
	Keystores Keystores `yaml:"keystores"`

	UserStoreTypes       map[string]string `yaml:"user_store_types"`
	DatasourceURL        string            `yaml:"datasource_url"`
	CallbackURLs         []string          `yaml:"callback_urls"`
	Secrets              Secrets           `yaml:"secrets"`
	OutboundVerification Outbound          `yaml:"outbound_verification"`

	DocumentedDefaults        map[string]DocumentedDefault `yaml:"documented_defaults"`
	DefaultCertificateSubject Subject                      `yaml:"default_certificate_subject"`

	// Profile is the product's profile (wso2-is, wso2-apim, wso2-mi).
	Profile string `yaml:"-"`
	// Line is the product line the layout was resolved for (7.2 for
	// 7.2.0); Known is false when the version could not be read.
	Line  Version `yaml:"-"`
	Known bool    `yaml:"-"`
	// Described is the described version whose entry matches Line ("" when
	// the version is not described); Note says what that means, "" when it
	// is described.
	Described string `yaml:"-"`
	Note      string `yaml:"-"`

	span    [2]Version // the product's oldest and newest described versions
	catalog *Catalog
}

// Mapper names the configuration mapper's files.
type Mapper struct {
	Deployment  string `yaml:"deployment"`
	Defaults    string `yaml:"defaults"`
	Infer       string `yaml:"infer"`
	KeyMappings string `yaml:"key_mappings"`
}

// BuildInputs is where a source reconstruction keeps the build's inputs.
type BuildInputs struct {
	Dir          string `yaml:"dir"`
	KernelPrefix string `yaml:"kernel_prefix"`
}

// Files are rendered files under the configuration directory.
type Files struct {
	Carbon   string `yaml:"carbon"`
	Catalina string `yaml:"catalina"`
	Context  string `yaml:"context"`
	Axis2    string `yaml:"axis2"`
	JMX      string `yaml:"jmx"`
	UserMgt  string `yaml:"user_mgt"`
	Log4j    string `yaml:"log4j"`
	Passthru string `yaml:"passthru"`
}

// SystemProperty is what the product sets a ${name} property to.
type SystemProperty struct {
	Key     string `yaml:"key"`
	Value   string `yaml:"value"`
	PortKey string `yaml:"port_key"`
	Port    int    `yaml:"port"`
}

// Port is one entry of the Carbon port plan.
type Port struct {
	Name    string `yaml:"name"`
	Key     string `yaml:"key"`
	Default int    `yaml:"default"`
}

// Listener is one TLS listener (or outbound sender) a product may run.
type Listener struct {
	Port            *PortSetting `yaml:"port"`
	Protocols       string       `yaml:"protocols"`
	Ciphers         string       `yaml:"ciphers"`
	Rendered        string       `yaml:"rendered"`
	WhenSet         []string     `yaml:"when_set"`
	WhenTrue        []string     `yaml:"when_true"`
	NoSetting       string       `yaml:"no_setting"`
	ContextProtocol string       `yaml:"context_protocol"`
}

// Rendered sources of a listener's lists.
const (
	RenderedCatalina      = "catalina"
	RenderedAxis2Receiver = "axis2_receiver"
	RenderedAxis2Sender   = "axis2_sender"
)

// PortSetting is a port a key can move, and its default before the offset.
type PortSetting struct {
	Key     string `yaml:"key"`
	Default int    `yaml:"default"`
}

// ServerHeader is a Tomcat connector's Server header key.
type ServerHeader struct {
	Key       string `yaml:"key"`
	Connector string `yaml:"connector"` // https or http
}

// Passthrough is the PassThrough transport of API-M's gateway and MI.
type Passthrough struct {
	ServerProperty string `yaml:"server_property"`
	ServerDefault  string `yaml:"server_default"`
	SenderDefault  string `yaml:"sender_default"`
}

// JMX is where the JMX RMI server is configured.
type JMX struct {
	Start        string      `yaml:"start"`
	Rendered     Element     `yaml:"rendered"`
	RegistryPort PortSetting `yaml:"registry_port"`
	ServerPort   PortSetting `yaml:"server_port"`
	Hostname     string      `yaml:"hostname"`
}

// Element is an element of a rendered file under conf.
type Element struct {
	File    string `yaml:"file"`
	Element string `yaml:"element"`
}

// Updates is the WSO2 Update Tool's record.
type Updates struct {
	Files []string `yaml:"files"`
	Keys  []string `yaml:"keys"`
}

// Keystores says where keystores are and which tables name them.
type Keystores struct {
	Dir             string         `yaml:"dir"`
	HomePrefixes    []string       `yaml:"home_prefixes"`
	DefaultPassword string         `yaml:"default_password"`
	Roles           []KeystoreRole `yaml:"roles"`
}

// KeystoreRole is one keystore the configuration may name.
type KeystoreRole struct {
	Role  string `yaml:"role"`
	Table string `yaml:"table"`
	Trust bool   `yaml:"trust"`
}

// Secrets is what is known of the products' secrets.
type Secrets struct {
	KnownDefaults     []KnownSecret     `yaml:"known_defaults"`
	AppPasswordHash   string            `yaml:"app_password_hash"`
	KeySegment        string            `yaml:"key_segment"`
	KeySuffixes       []string          `yaml:"key_suffixes"`
	Roots             []SecretRoot      `yaml:"roots"`
	EnabledBy         map[string]string `yaml:"enabled_by"`
	SystemAccount     string            `yaml:"system_account"`
	SymmetricProvider string            `yaml:"symmetric_provider"`
}

// KnownSecret is a secret WSO2 publishes.
type KnownSecret struct {
	Value string `yaml:"value"`
	What  string `yaml:"what"`
}

// SecretRoot is a key pattern whose shipped default is rendered.
type SecretRoot struct {
	Key     string `yaml:"key"`
	Renders string `yaml:"renders"`
}

// Outbound says which settings turn outbound verification off.
type Outbound struct {
	JVMProperties   map[string]string `yaml:"jvm_properties"`
	OffWhenFalse    string            `yaml:"off_when_false"`
	OffWhenTrue     string            `yaml:"off_when_true"`
	KeyWords        []string          `yaml:"key_words"`
	SenderVerifiers []string          `yaml:"sender_verifiers"`
	SenderOff       string            `yaml:"sender_off"`
	JDBCParameters  []string          `yaml:"jdbc_parameters"`
}

// DocumentedDefault is one documented product default.
type DocumentedDefault struct {
	Value    any    `yaml:"value"`
	Versions string `yaml:"versions"`
	Source   string `yaml:"source"`
	Verified string `yaml:"verified"`
}

// Subject is the subject every shipped default certificate carries.
type Subject struct {
	CN string `yaml:"cn"`
	OU string `yaml:"ou"`
	O  string `yaml:"o"`
}
