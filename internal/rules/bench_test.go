package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/rules"
	builtin "github.com/rampart-sec/rampart/rules"
)

// fleetFacts builds the facts of n targets shaped like a real fleet: a
// third product installations with default configuration, a third TLS+HTTP
// endpoints with a weak configuration, a third hosts.
func fleetFacts(n int) []rules.Input {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	out := make([]rules.Input, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("target-%04d", i)
		f := &facts.Facts{Target: facts.Target{Name: name, Profiles: []string{}, ExpectedPorts: []int{22, 9443}}, Scan: facts.DefaultScan(now)}
		var offers map[string]bool
		switch i % 3 {
		case 0:
			f.Target.Kind, f.Target.Profiles = "directory", []string{"wso2-apim"}
			f.Product = productFacts()
			offers = map[string]bool{"file": true}
		case 1:
			f.Target.Kind = "endpoint"
			f.TLS, f.HTTP = tlsFacts(now), httpFacts()
			offers = map[string]bool{"probe": true}
		default:
			f.Target.Kind, f.Target.Profiles = "host", []string{"linux-host", "wso2-is"}
			f.Host = hostFacts(now)
			offers = map[string]bool{"host": true}
		}
		out = append(out, rules.Input{Facts: f, Offers: offers})
	}
	return out
}

func productFacts() *facts.Product {
	sec := func(k string) facts.Secret {
		return facts.Secret{Key: k, Form: "plain", KnownDefault: true, Kind: "password", Origin: facts.Origin{File: "repository/conf/deployment.toml", Line: 10}}
	}
	p := &facts.Product{
		Profile: "wso2-apim", Name: "WSO2 API Manager", Version: "4.1.0", UpdateLevel: -1,
		Settings: map[string]facts.Setting{},
		TLSListeners: []facts.TLSListener{
			{Name: "https", Port: 9443, Protocols: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}},
			{Name: "passthru-https", Port: 8243, Protocols: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}},
			{Name: "binary-receiver", Port: 9711, Protocols: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}, Ciphers: []string{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}},
		},
		JVM:             facts.JVM{Source: "bin/api-manager.sh", HostnameVerifier: "AllowAll", DisableHostnameVerification: "true", HeapMaxMB: 1024, JMXRemote: true, Properties: map[string]facts.Setting{}},
		Secrets:         []facts.Secret{sec("super_admin.password"), sec("keystore.tls.password"), sec("truststore.password"), sec("database.apim_db.password"), sec("database.shared_db.password")},
		SuperAdmin:      facts.SuperAdmin{Username: facts.Setting{Key: "super_admin.username", Value: "admin", Set: true}, Password: sec("super_admin.password"), CreateAdminAccount: true},
		AppAuth:         facts.AppAuth{Password: sec("identity.auth_framework.endpoint.app_password"), Hash: facts.Setting{Value: "66cd9688a2ae068244ea01e70f0e230f5623b7fa4cdecb65070a09ec06452262", Set: true}, HashVerifiable: true, HashMatches: true},
		Datasources:     []facts.Datasource{{Name: "WSO2AM_DB", Driver: "h2", Embedded: true, Username: "wso2carbon"}},
		UserStores:      []facts.UserStore{{Name: "primary", Type: "database_unique_id"}},
		CallbackRegexes: []facts.Setting{{Key: "identity_mgt.recovery.callback_url", Value: ".*", Set: true}},
		SessionCleanup:  facts.SessionCleanup{ChunkSize: facts.Setting{Value: "8192", Set: true}},
		ServerHeaders:   []facts.Setting{{Key: "transport.https.properties.server", Value: "WSO2 Carbon Server", Set: true}},
		WebApps:         []facts.WebApp{{Name: "carbon", HSTSEnabled: false}},
		Logging: facts.Logging{Appenders: []facts.Appender{
			{Name: "CARBON_LOGFILE", Type: "RollingFile", Policies: []string{"TimeBasedTriggeringPolicy", "SizeBasedTriggeringPolicy"}, MaxBackups: 20, Pattern: "TID: [%tenantId] [%appName] [%d] %5p {%c} - %m%ex%n"},
			{Name: "AUDIT_LOGFILE", Type: "RollingFile", Policies: []string{"TimeBasedTriggeringPolicy"}, MaxBackups: 20, Pattern: "TID: [%tenantId] [%d] %5p {%c} - %m%ex%n"},
		}},
		Ports:    facts.PortPlan{Listeners: []facts.PortSetting{{Name: "https", Port: 9443, DefaultPort: 9443}, {Name: "passthru-https", Port: 8243, DefaultPort: 8243}}},
		JMX:      facts.JMX{Enabled: true, RegistryPort: 9999, ServerPort: 11111},
		Hostname: facts.Setting{Key: "server.hostname", Value: "localhost", Set: true},
	}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("setting.%d", i)
		p.Settings[k] = facts.Setting{Key: k, Value: "v", Set: true}
	}
	for _, role := range []string{"tls", "truststore"} {
		ks := facts.Keystore{Role: role, File: "repository/resources/security/wso2carbon.jks", Type: "JKS", Opened: true,
			Password: sec("keystore." + role + ".password"), KeyPassword: sec("keystore." + role + ".key_password")}
		kind := "private_key"
		if role == "truststore" {
			kind = "trusted_cert"
		}
		for j := 0; j < 40; j++ {
			ks.Entries = append(ks.Entries, facts.KeyEntry{Alias: fmt.Sprintf("ca-%d", j), Kind: kind,
				Certificate: facts.Certificate{Subject: "CN=localhost, OU=WSO2, O=WSO2", KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA", WSO2Default: j == 0}})
		}
		p.Keystores = append(p.Keystores, ks)
	}
	return p
}

func tlsFacts(now time.Time) *facts.TLS {
	t := &facts.TLS{Address: "10.0.0.1:443", Versions: []string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}, DHBits: 1024, SecureRenegotiation: true, ClientRenegotiation: "rejected", NameChecked: "10.0.0.1"}
	for i := 0; i < 44; i++ {
		mode := "CBC"
		if i%4 == 0 {
			mode = "AEAD"
		}
		t.Suites = append(t.Suites, facts.CipherSuite{Version: "TLSv1.2", ID: fmt.Sprintf("0x%04X", i), Name: fmt.Sprintf("TLS_SUITE_%d", i), Kex: "DHE", Auth: "RSA", Cipher: "AES_128_CBC", Mode: mode, MAC: "SHA", Bits: 128, ForwardSecrecy: i%2 == 0})
	}
	t.Chain = []facts.Certificate{{Subject: "CN=weak", KeyType: "RSA", KeyBits: 1024, SignatureAlgorithm: "SHA1-RSA", SelfSigned: true, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0)}}
	return t
}

func httpFacts() *facts.HTTP {
	return &facts.HTTP{
		HTTPS:         true,
		ServerHeaders: []string{"nginx/1.22.1"},
		Disclosures:   []facts.Disclosure{{Where: "header:Server", Value: "nginx/1.22.1"}},
		Pages:         []facts.Page{{Path: "/carbon", Status: 200}},
		Paths:         []facts.PathProbe{{Path: "/carbon", Category: "admin", Status: 200, Reachable: true}, {Path: "/services", Category: "admin", Status: 200, Reachable: true}},
		Cookies:       []facts.Cookie{{Name: "JSESSIONID", Length: 32, Session: true}},
		Health:        []facts.HealthProbe{{Path: "/healthz", Status: 200, Healthy: true, LatencyMS: 3}},
	}
}

func hostFacts(now time.Time) *facts.Host {
	h := &facts.Host{
		MemoryMB: 8192,
		Processes: []facts.Process{{PID: 100, User: "wso2", UID: 998, Profile: "wso2-is", JDKMajor: 17, JDKVersion: "17.0.15",
			JVM: facts.JVM{HeapMaxMB: 2048, HostnameVerifier: "DefaultAndLocalhost"}}},
		Listeners: []facts.Listener{{Address: "0.0.0.0", Port: 9443, AllInterfaces: true}, {Address: "0.0.0.0", Port: 4000, AllInterfaces: true}},
		Firewall:  facts.Firewall{Backend: "nftables", Enabled: true, InputPolicy: "drop", OutputPolicy: "accept", Rules: []facts.FirewallRule{{Chain: "input", Action: "accept", Protocol: "tcp", Ports: []int{22, 9443, 4000}}}},
		SSHD: facts.SSHD{Present: true, Ports: []int{22}, ListenAddresses: []string{"0.0.0.0"},
			PermitRootLogin: facts.Setting{Value: "yes", Set: true}, PasswordAuthentication: facts.Setting{Value: "yes", Set: true}},
		Packages: facts.Packages{Manager: "dpkg", Installed: map[string]string{}},
		Updates:  facts.Updates{Known: true, DataAge: now.AddDate(0, 0, -1), PendingSecurity: []string{"openssl"}},
	}
	for i := 0; i < 1500; i++ {
		h.Packages.Installed[fmt.Sprintf("pkg-%d", i)] = "1.0"
	}
	h.Packages.Installed["gcc"] = "12"
	return h
}

// BenchmarkJudgeFleet evaluates every built-in rule over the facts of
// 1,000 targets; one iteration is the whole fleet.
func BenchmarkJudgeFleet(b *testing.B) {
	set := loadBuiltin(b)
	inputs := fleetFacts(1000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, in := range inputs {
			n += len(rules.Judge(set.Rules(), in))
		}
		if n != 1000*len(set.Rules()) {
			b.Fatalf("%d findings", n)
		}
	}
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkJudgeFleetParallel judges the same fleet the way a scan does:
// targets concurrently, one goroutine per core (Judge is a pure function
// of each target's facts).
func BenchmarkJudgeFleetParallel(b *testing.B) {
	set := loadBuiltin(b)
	inputs := fleetFacts(1000)
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		next := make(chan rules.Input)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for in := range next {
					rules.Judge(set.Rules(), in)
				}
			}()
		}
		for _, in := range inputs {
			next <- in
		}
		close(next)
		wg.Wait()
	}
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoad compiles every built-in rule (done once per scan).
func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		loadBuiltin(b)
	}
}

// endpointInput reads the facts `rampart facts` gathered from one of the
// eval targets (testdata/bench: the weak nginx over https, the weak sshd).
func endpointInput(b testing.TB, name string) rules.Input {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
	if err != nil {
		b.Fatal(err)
	}
	var f facts.Facts
	if err := json.Unmarshal(data, &f); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return rules.Input{Facts: &f, Offers: map[string]bool{rules.KindProbe: true}}
}

// builtinSources are the two ways the built-in rules load: from the
// compiled file (what `rampart scan` and `rules list` do), and from the
// YAML (`rules test`, `rules lint`, or a stale compiled file).
var builtinSources = []struct {
	name string
	src  rules.Source
}{
	{"compiled", rules.Source{Name: "rules", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled}},
	{"yaml", rules.Source{Name: "rules", FS: builtin.FS, Trusted: true}},
}

// BenchmarkLoadBuiltin reads the built-in rules without compiling
// anything: what `rampart rules list` and every scan pay first.
func BenchmarkLoadBuiltin(b *testing.B) {
	for _, s := range builtinSources {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := rules.Load(s.src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkJudgeEndpoint judges the facts of one endpoint with every
// built-in rule. cold is what one `rampart scan https://HOST/` pays after
// loading the rules: the CEL environment, compiling (cold-yaml) or
// planning from their checked form (cold-compiled) the checks the
// endpoint can be judged by, and judging; warm judges with a set whose
// programs are already compiled (a fleet scan, the server).
func BenchmarkJudgeEndpoint(b *testing.B) {
	for _, name := range []string{"endpoint-https-weak", "endpoint-ssh-weak"} {
		in := endpointInput(b, name)
		for _, s := range builtinSources {
			b.Run(name+"/cold-"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				var cpu time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					set, err := rules.Load(s.src)
					if err != nil {
						b.Fatal(err)
					}
					cpu0 := cpuTime()
					b.StartTimer()
					if got := rules.Judge(set.Rules(), in); len(got) != len(set.Rules()) {
						b.Fatalf("%d findings", len(got))
					}
					cpu += cpuTime() - cpu0
				}
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
		// prepared: what a scan's judging pays once rules.Prepare has
		// compiled the checks while the collectors waited on the network.
		b.Run(name+"/prepared-compiled", func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				set, err := rules.Load(builtinSources[0].src)
				if err != nil {
					b.Fatal(err)
				}
				rules.Prepare(context.Background(), set.Rules(), in.Offers, []string{"tls", "http", "ssh"})
				cpu0 := cpuTime()
				b.StartTimer()
				if got := rules.Judge(set.Rules(), in); len(got) != len(set.Rules()) {
					b.Fatalf("%d findings", len(got))
				}
				cpu += cpuTime() - cpu0
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
		b.Run(name+"/warm", func(b *testing.B) {
			set := loadBuiltin(b)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if got := rules.Judge(set.Rules(), in); len(got) != len(set.Rules()) {
					b.Fatalf("%d findings", len(got))
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
