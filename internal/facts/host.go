package facts

import "time"

// Host is the operating system a product runs on, read through a root
// directory (this machine's "/" or a mounted image).
type Host struct {
	Root     string `json:"root"`
	Hostname string `json:"hostname"`
	OS       OSInfo `json:"os"`
	MemoryMB int64  `json:"memory_mb"`
	// Processes are the Java processes of WSO2 products found in /proc.
	Processes []Process `json:"processes"`
	// Listeners are the listening TCP sockets, with their owners.
	Listeners []Listener `json:"listeners"`
	Firewall  Firewall   `json:"firewall"`
	// SSHD is the system-wide configuration (/etc/ssh/sshd_config, through
	// sshd -T on the live host), whether or not an sshd runs with it.
	SSHD SSHD `json:"sshd"`
	// SSHDInstances are the sshd servers the host runs: each listening
	// sshd process with the configuration it was started with (-f, -p,
	// -o) and the sockets it listens on. On an offline image, the
	// configured one.
	SSHDInstances []SSHD   `json:"sshd_instances"`
	Packages      Packages `json:"packages"`
	Updates       Updates  `json:"updates"`
	Audit         Audit    `json:"audit"`
	Backups       []Backup `json:"backups"`
	// SecretFiles are configuration files, keystores and secret files of the
	// products found, with their permissions.
	SecretFiles []FileMode `json:"secret_files"`
	// ProductHomes are the WSO2 installations found on the host (from the
	// running processes' -Dcarbon.home and the usual install places); each
	// can be scanned with the product-file rules.
	ProductHomes []string `json:"product_homes"`
}

// OSInfo comes from /etc/os-release and /proc.
type OSInfo struct {
	ID         string `json:"id"`
	VersionID  string `json:"version_id"`
	PrettyName string `json:"pretty_name"`
	Kernel     string `json:"kernel"`
}

// Process is one running product process.
type Process struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
	User string `json:"user"`
	UID  int    `json:"uid"`
	// UserShell and UserHome come from /etc/passwd; a dedicated service
	// account usually has a nologin shell.
	UserShell string `json:"user_shell"`
	UserHome  string `json:"user_home"`
	// SharedUser is true when other, unrelated processes run as the same user.
	SharedUser bool `json:"shared_user"`
	// ProductHome is -Dcarbon.home (or the MI home); Profile the product.
	ProductHome string `json:"product_home"`
	Profile     string `json:"profile"`
	JVM         JVM    `json:"jvm"`
	// JDKVersion is the java.version of the runtime ("17.0.15"), JDKMajor 17.
	JDKVersion string `json:"jdk_version"`
	JDKMajor   int    `json:"jdk_major"`
	Origin     Origin `json:"origin"`
}

// Listener is one listening TCP socket.
type Listener struct {
	Address string `json:"address"` // as bound: 0.0.0.0, ::, 127.0.0.1
	Port    int    `json:"port"`
	// AllInterfaces is true for 0.0.0.0 and ::.
	AllInterfaces bool   `json:"all_interfaces"`
	Loopback      bool   `json:"loopback"`
	PID           int    `json:"pid"`
	Process       string `json:"process"`
	User          string `json:"user"`
	// Role is what the port is known to be: jmx (a JMX port of its owner's
	// -Dcom.sun.management.jmxremote.*port flags, or WSO2's RMI ports 9999
	// and 11111 on a product process), clustering (4000/4001 on a product
	// process), ssh (owned by sshd), or empty.
	Role   string `json:"role,omitempty"`
	Origin Origin `json:"origin"`
}

// Firewall is the host firewall as its rule set says.
type Firewall struct {
	// Backend is nftables, iptables, or none.
	Backend string `json:"backend"`
	// Source says how it was read: "nft -j list ruleset", "iptables-save",
	// or the file read (/etc/nftables.conf).
	Source  string `json:"source"`
	Enabled bool   `json:"enabled"`
	// InputPolicy is the effective default for inbound packets: drop,
	// reject or accept.
	InputPolicy  string `json:"input_policy"`
	OutputPolicy string `json:"output_policy"`
	// Rules are the accept rules for inbound (chain input) and outbound
	// (chain output) traffic.
	Rules []FirewallRule `json:"rules"`
}

// FirewallRule is one accept rule, reduced to what exposure rules need.
type FirewallRule struct {
	Chain    string   `json:"chain"` // input, output
	Action   string   `json:"action"`
	Protocol string   `json:"protocol"` // tcp, udp, any
	Ports    []int    `json:"ports"`    // destination ports; empty = any
	Sources  []string `json:"sources"`  // CIDRs; empty = any
	Dests    []string `json:"dests"`    // CIDRs; empty = any
	Origin   Origin   `json:"origin"`
}

// SSHD is the effective configuration of an sshd: the system-wide one
// (host.sshd), or one running instance (host.sshd_instances).
type SSHD struct {
	Present bool `json:"present"`
	// Source is "sshd -T" or the file read.
	Source string `json:"source"`
	// PID, ConfigFile (its -f, else /etc/ssh/sshd_config) and Listening
	// (the sockets it owns, "127.0.0.1:2222") of a running instance.
	PID        int      `json:"pid,omitempty"`
	ConfigFile string   `json:"config_file,omitempty"`
	Listening  []string `json:"listening,omitempty"`
	// Error says why the instance's configuration could not be read.
	Error                  string   `json:"error,omitempty"`
	Ports                  []int    `json:"ports"`
	ListenAddresses        []string `json:"listen_addresses"`
	PermitRootLogin        Setting  `json:"permit_root_login"`
	PasswordAuthentication Setting  `json:"password_authentication"`
	KbdInteractive         Setting  `json:"kbd_interactive_authentication"`
	PubkeyAuthentication   Setting  `json:"pubkey_authentication"`
	Banner                 Setting  `json:"banner"`
	// Settings holds every keyword read, lower-case, for custom rules.
	Settings map[string]Setting `json:"settings"`
	// Matches are the Match blocks of the configuration files, with the
	// settings they change for the connections they match.
	Matches []SSHDMatch `json:"matches"`
}

// SSHDMatch is one Match block of sshd_config.
type SSHDMatch struct {
	// Criteria is the Match line's arguments ("User deploy Address 10.0.0.0/8").
	Criteria string             `json:"criteria"`
	Settings map[string]Setting `json:"settings"`
	Origin   Origin             `json:"origin"`
}

// Packages is the installed software, from the package manager's database.
type Packages struct {
	Manager string `json:"manager"` // dpkg, rpm, apk
	// Installed maps package name to version.
	Installed map[string]string `json:"installed"`
	Origin    Origin            `json:"origin"`
}

// Updates is what the package manager's local data says of pending updates.
type Updates struct {
	// Known is false when the local data is missing; Reason says why.
	Known  bool   `json:"known"`
	Reason string `json:"reason,omitempty"`
	// DataAge is when the package lists were last refreshed.
	DataAge time.Time `json:"data_age"`
	// PendingSecurity lists packages with a security update waiting.
	PendingSecurity []string `json:"pending_security"`
	Origin          Origin   `json:"origin"`
}

// Audit is how user activity is logged.
type Audit struct {
	AuditdInstalled bool `json:"auditd_installed"`
	AuditdRunning   bool `json:"auditd_running"`
	AuditRules      int  `json:"audit_rules"`
	// RemoteLogTargets are the collectors logs are forwarded to (rsyslog
	// @@host, journald upload, syslog-ng destinations).
	RemoteLogTargets []string `json:"remote_log_targets"`
	Origin           Origin   `json:"origin"`
}

// Backup is one declared backup location and what it holds.
type Backup struct {
	Location   string    `json:"location"`
	Exists     bool      `json:"exists"`
	NewestFile string    `json:"newest_file"`
	Newest     time.Time `json:"newest"`
	Origin     Origin    `json:"origin"`
}

// FileMode is one sensitive file's ownership and permissions.
type FileMode struct {
	Path  string `json:"path"`
	Mode  string `json:"mode"` // octal, "0640"
	Owner string `json:"owner"`
	Group string `json:"group"`
	// WorldReadable: other users can read it; GroupReadable likewise for the group.
	WorldReadable bool `json:"world_readable"`
	GroupReadable bool `json:"group_readable"`
	// Kind is config, keystore or secret.
	Kind   string `json:"kind"`
	Origin Origin `json:"origin"`
}

// NamespaceSpec says that host facts come from the operating system of a host target; host checks read them.
func (Host) NamespaceSpec() Spec { return Spec{Targets: []string{"host"}, Checks: []string{"host"}} }
