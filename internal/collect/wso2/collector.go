// Package wso2 audits a WSO2 Identity Server, API Manager or Micro
// Integrator installation from its own files: it detects the product and
// version, resolves the effective configuration (deployment.toml over the
// shipped defaults), opens the keystores, reads the start script's JVM
// options, log4j2.properties and the rendered XML files, and reports what
// it finds as product facts with file:line origins. It reads only inside
// the product directory, never writes, and never runs anything.
package wso2

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// Collector reads WSO2 product installations. It keeps the facts of the
// certificates it has described, so scans of many product homes (an
// inventory, the homes of a local scan) describe each distinct
// certificate once.
type Collector struct {
	certs *certCache
	// kb is the product knowledge (products.yaml); nil means the embedded
	// one, parsed on first use.
	kb *wso2kb.Catalog
}

// New returns the WSO2 product collector, which knows the products as the
// embedded products.yaml describes them.
func New() *Collector { return &Collector{certs: newCertCache()} }

// WithCatalog returns the WSO2 product collector with other product
// knowledge (a test's).
func WithCatalog(kb *wso2kb.Catalog) *Collector { return &Collector{certs: newCertCache(), kb: kb} }

func (c *Collector) catalog() *wso2kb.Catalog {
	if c.kb != nil {
		return c.kb
	}
	return wso2kb.Default()
}

// Name implements collect.Collector.
func (*Collector) Name() string { return "wso2" }

// Provides implements collect.Collector.
func (*Collector) Provides() []string { return []string{facts.NSProduct} }

// Needs implements collect.Collector: the product directory's files.
func (*Collector) Needs() collect.Needs { return collect.Needs{Requires: collect.Files} }

// Applies implements collect.Collector: product directories.
func (*Collector) Applies(t target.Target) bool { return t.Kind == target.Directory }

// Fact sub-paths that can fail on their own.
const (
	pathJVM       = "product.jvm"
	pathLogging   = "product.logging"
	pathKeystores = "product.keystores"
	pathSession   = "product.session_id_length"
)

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	var fsys fs.FS
	if env != nil {
		fsys = env.FS
	}
	h, err := openHome(t.Dir, fsys)
	if err != nil {
		return nil, err
	}
	defer h.close()
	certs := c.certs
	if certs == nil { // a zero Collector
		certs = newCertCache()
	}
	return collectHome(ctx, h, t.Profile, certs, c.catalog())
}

func collectHome(ctx context.Context, h *home, forced string, certs *certCache, kb *wso2kb.Catalog) (*facts.Facts, error) {
	det, err := detect(h, forced, kb)
	if err != nil {
		return nil, err
	}
	p, err := loadConfig(h, det)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", det.name, err)
	}
	p.certs = certs
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := &facts.Facts{}
	level, levelErr := p.updateLevel()
	prod := &facts.Product{
		Profile:            det.profile,
		DetectedProfile:    det.detected,
		Name:               det.name,
		Version:            det.version,
		Home:               h.dir,
		UpdateLevel:        level,
		UpdateLevelError:   levelErr,
		ConfigFile:         p.toml,
		DefaultsIncomplete: p.incomplete,
	}
	// Keystores first: their certificates are described in the background
	// while the rest is read.
	var finishCerts func()
	prod.Keystores, finishCerts = p.keystores()
	defer finishCerts()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prod.Settings = p.settingsMap()
	prod.TLSListeners = p.tlsListeners()
	jvm, err := p.jvm()
	if err != nil {
		f.Fail(pathJVM, err)
	}
	prod.JVM = jvm
	prod.Secrets = p.secrets()
	prod.SecureVault = p.secureVault()
	prod.SuperAdmin = p.superAdmin()
	prod.ManagementUsers = orEmpty(p.listUsers())
	prod.SystemAccounts = orEmpty(p.systemAccounts())
	prod.AppAuth = p.appAuth()
	prod.Encryption = p.encryption()
	prod.UserStores = orEmpty(p.userStores())
	prod.Datasources = orEmpty(p.datasources())
	prod.AdminRoles = orEmpty(p.adminRoles())
	prod.CallbackRegexes = orEmpty(p.callbackRegexes())
	prod.SessionCleanup = facts.SessionCleanup{
		ChunkSize: p.setting("session_data.cleanup.clean_expired_session_data_in_chunks_of"),
		Enabled:   p.setting("session_data.cleanup.enable_expired_data_cleanup"),
	}
	n, o, err := p.sessionIDLength()
	if err != nil {
		f.Fail(pathSession, err)
	}
	prod.SessionIDLength, prod.SessionIDOrigin = n, o
	prod.ServerHeaders = orEmpty(p.serverHeaders())
	prod.WebApps = orEmpty(p.webApps())
	logs, err := p.logging()
	if err != nil {
		f.Fail(pathLogging, err)
	}
	prod.Logging = logs
	prod.Ports = p.ports()
	prod.JMX = p.jmx()
	prod.Hostname = p.setting("server.hostname")
	prod.Proxy = p.proxy()
	prod.Clustering = p.clustering()
	prod.OutboundVerificationOff = orEmpty(p.outboundVerificationOff(jvm))
	prod.SenderHostnameVerifiers = orEmpty(p.senderVerifiers())
	prod.HealthCheck = p.setting("carbon_health_check.enable")
	prod.Java = p.java()
	finishCerts()
	prod.Notes = orEmpty(p.notes)
	sort.Strings(prod.Notes)
	f.Product = prod
	f.SetStatus(facts.NSProduct, facts.Status{State: facts.Collected})
	return f, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// settingsMap is the effective configuration, secrets redacted.
func (p *product) settingsMap() map[string]facts.Setting {
	out := make(map[string]facts.Setting, len(p.cfg.Keys()))
	for _, k := range p.cfg.Keys() {
		s := p.setting(k)
		s.Value = facts.RedactValue(k, s.Value)
		out[k] = s
	}
	return out
}
