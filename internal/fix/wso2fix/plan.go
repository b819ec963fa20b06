// Package wso2fix plans the changes that turn a WSO2 product home's failing
// rules into passes, the way the products' own documentation makes them:
// deployment.toml keys (added to their table, or a table added at the end),
// secrets moved into [secrets] and encrypted as the cipher tool does,
// new keystores and a cleaned truststore, the rendered files and templates
// the configuration cannot reach, and JVM flags in the start script. It
// reads the home's files through a fix.Workspace and writes nothing.
package wso2fix

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/wso2"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/fix/tomledit"
)

// Options are the operator's inputs and the planner's sources.
type Options struct {
	// Hostname is the product's public host name (certificates, [server]
	// hostname, callback patterns); empty: taken from the inventory or the
	// configuration when it is a real name, else the fixes that need it
	// ask for --hostname.
	Hostname string
	// AdminUser renames the bootstrap administrator ("" keeps the name).
	AdminUser string
	// KeyType is keygen.RSA3072 (default) or keygen.ECP256 for the TLS key.
	KeyType string
	// CSR writes a certificate signing request beside the new keystore.
	CSR bool
	// PortOffset, when set, moves the product off its default ports.
	PortOffset *int
	// VaultCert is the certificate of the keystore entry Secure Vault
	// uses when that keystore is not in the home (mounted at run time).
	VaultCert *x509.Certificate
	Now       time.Time
	Rand      io.Reader
	Keys      keygen.Source
	// Inventory: the product homes come from an inventory file, whose
	// entries can name each one's hostname (an entry's wins over Hostname).
	Inventory bool
}

// Input is one product home and what the scan found there.
type Input struct {
	// Target names the target in the plan.
	Target string
	// Dir is where the home's files are read (and written).
	Dir string
	// Home is the home's path as the product itself sees it (written into
	// secret-conf.properties); Dir when empty.
	Home     string
	Facts    *facts.Facts
	Findings []finding.Finding
}

// result accumulates the parts of one rule's fix.
type result struct {
	parts []part
}

type part struct {
	status fix.Status
	text   string
	inputs []string
	todo   []string
}

type planner struct {
	in   Input
	opt  Options
	ws   *fix.Workspace
	prod *facts.Product
	eff  *wso2.Effective
	doc  *tomledit.Doc
	conf string // the configuration directory: repository/conf or conf

	failing map[string]finding.Finding
	results map[string]*result
	// handled are the secret keys (as the collector names them) a fixer
	// replaced with a new value, and by which rule.
	handled map[string]string
	secrets []*secretReq
	// vault is the new keystore's key when it is the one Secure Vault
	// uses; existing the one the files name (found once).
	vault, existing *vaultKey
	// replacedAll: every keystore with a private key was replaced.
	replacedAll bool
	reveals     []fix.Reveal
}

// Plan plans the fixes of one product home.
func Plan(in Input, opt Options) (*fix.Plan, error) {
	if in.Facts == nil || in.Facts.Product == nil {
		return nil, fmt.Errorf("%s: no product facts to fix from", in.Target)
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Keys == nil {
		opt.Keys = keygen.RandomSource{Rand: opt.Rand}
	}
	if opt.KeyType == "" {
		opt.KeyType = keygen.RSA3072
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	p := &planner{
		in: in, opt: opt, prod: in.Facts.Product,
		ws:      fix.NewWorkspace(in.Target, in.Dir),
		failing: map[string]finding.Finding{},
		results: map[string]*result{},
		handled: map[string]string{},
	}
	for _, f := range in.Findings {
		if f.Status == finding.Fail {
			p.failing[f.RuleID] = f
		}
	}
	plan := &fix.Plan{}
	if len(p.failing) == 0 {
		return plan, nil
	}
	eff, err := wso2.EffectiveConfig(in.Dir, p.prod.Profile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Target, err)
	}
	p.eff = eff
	p.conf = path.Dir(eff.ConfigFile)
	doc, err := p.ws.TOML(eff.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Target, err)
	}
	doc.Canonical = func(written string) []string { return eff.Mappings[written] }
	p.doc = doc

	// The order matters: the keystores decide the key secrets are
	// encrypted with; the account and key fixes replace secrets before the
	// rest are moved into the vault as they are.
	for _, step := range []func(){
		p.keystores,
		p.admin,
		p.appPassword,
		p.encryptionKey,
		p.plainSecrets,
		p.tlsListeners,
		p.senderVerification,
		p.jvmFlags,
		p.databaseTLS,
		p.serverHeaders,
		p.hsts,
		p.jmx,
		p.hostname,
		p.portOffset,
		p.callbacks,
		p.sessionCleanup,
		p.logPatterns,
		p.logRotation,
		p.outboundVerification,
		p.sessionIDLength,
		p.weakKeys,
	} {
		step()
	}
	p.finishSecrets()

	changes, err := p.ws.Changes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Target, err)
	}
	plan.Changes = changes
	plan.Reveals = p.reveals
	ids := make([]string, 0, len(p.failing))
	for id := range p.failing {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		plan.Results = append(plan.Results, p.resultOf(id))
	}
	return plan, nil
}

// fails reports whether rule is failing and so to be fixed.
func (p *planner) fails(rule string) bool {
	_, ok := p.failing[rule]
	return ok
}

func (p *planner) add(rule string, pt part) {
	r := p.results[rule]
	if r == nil {
		r = &result{}
		p.results[rule] = r
	}
	r.parts = append(r.parts, pt)
}

func (p *planner) fixed(rule, text string, todo ...string) {
	p.add(rule, part{status: fix.Fixed, text: text, todo: todo})
}

func (p *planner) needs(rule, text string, inputs ...string) {
	p.add(rule, part{status: fix.NeedsInput, text: text, inputs: inputs})
}

func (p *planner) manual(rule, text string) {
	p.add(rule, part{status: fix.Manual, text: text})
}

func (p *planner) failed(rule string, err error) {
	p.add(rule, part{status: fix.Failed, text: err.Error()})
}

// rank orders statuses from best to worst.
func rank(s fix.Status) int {
	switch s {
	case fix.Fixed:
		return 0
	case fix.NeedsInput:
		return 1
	case fix.Manual:
		return 2
	case fix.Failed:
		return 3
	}
	return 0
}

// resultOf folds a rule's parts: the worst status wins; texts, inputs and
// to-dos are kept once each.
func (p *planner) resultOf(rule string) fix.Result {
	res := fix.Result{Rule: rule, Target: p.in.Target}
	r := p.results[rule]
	if r == nil || len(r.parts) == 0 {
		res.Status = fix.Manual
		res.Summary = "no safe automatic fix: " + fix.FirstSentence(p.failing[rule].Remediation)
		res.Details = []string{res.Summary}
		return res
	}
	res.Status = ""
	var texts []string
	seen := map[string]bool{}
	for _, pt := range r.parts {
		// A part without a status only adds words or to-dos.
		if pt.status != "" && (res.Status == "" || rank(pt.status) > rank(res.Status)) {
			res.Status = pt.status
		}
		if pt.text != "" && !seen["t"+pt.text] {
			seen["t"+pt.text] = true
			texts = append(texts, pt.text)
		}
		for _, i := range pt.inputs {
			if !seen["i"+i] {
				seen["i"+i] = true
				res.Inputs = append(res.Inputs, i)
			}
		}
		for _, t := range pt.todo {
			if !seen["d"+t] {
				seen["d"+t] = true
				res.Todo = append(res.Todo, t)
			}
		}
	}
	res.Details = texts
	res.Summary = strings.Join(texts, "; ")
	if res.Status == "" {
		res.Status = fix.Manual
		res.Summary = "no safe automatic fix: " + fix.FirstSentence(p.failing[rule].Remediation)
		res.Details = []string{res.Summary}
		res.Todo = nil
		return res
	}
	if res.Status == fix.Fixed {
		restart := "restart " + productName(p.prod) + " for the change to take effect"
		if !seen["d"+restart] {
			res.Todo = append(res.Todo, restart)
		}
	}
	return res
}

func productName(pr *facts.Product) string {
	if pr.Name != "" {
		return pr.Name
	}
	return "the product"
}

// publicHost is the public name the fixes use: the one given (inventory
// entry, --hostname), or the configured one when it is a real name.
func (p *planner) publicHost() string {
	if h := p.givenHost(); h != "" {
		return h
	}
	if h := p.prod.Hostname; h.Set && !placeholderHost(h.Value) {
		return h.Value
	}
	return ""
}

// givenHost is the host name the operator gave: the target's inventory
// entry's (more specific than the flag, which covers the entries that name
// none), else --hostname.
func (p *planner) givenHost() string {
	if h := p.in.Facts.Target.Hostname; h != "" {
		return h
	}
	return p.opt.Hostname
}

// hostInput is how the operator gives the public host name: the flag, or
// the target's inventory entry when it comes from one.
func (p *planner) hostInput() string {
	if p.opt.Inventory {
		return "hostname: NAME in the inventory entry of " + p.in.Target + ", or --hostname NAME for every entry that names none"
	}
	return "--hostname NAME"
}

func placeholderHost(h string) bool {
	switch strings.ToLower(strings.TrimSpace(h)) {
	case "", "localhost", "127.0.0.1", "0.0.0.0", "::1", "localhost.localdomain":
		return true
	}
	return strings.Contains(h, "${") || strings.Contains(h, "$ref{")
}

// home is the product home as the product sees it.
func (p *planner) home() string {
	if p.in.Home != "" {
		return p.in.Home
	}
	if abs, err := filepath.Abs(p.in.Dir); err == nil {
		return abs
	}
	return p.in.Dir
}

// security is the directory keystores sit in.
func (p *planner) security(name string) string {
	name = strings.TrimSpace(name)
	name = strings.TrimPrefix(name, "<CARBON_HOME>/")
	name = strings.TrimPrefix(name, "${carbon.home}/")
	if strings.Contains(name, "/") {
		return strings.TrimPrefix(name, "./")
	}
	return "repository/resources/security/" + name
}

// setKey sets the key the collector names canonical: where deployment.toml
// writes it (under any of its names) the value is replaced there; else it
// is added under the name users write (the key-mappings.json name that
// maps to it, when there is one).
func (p *planner) setKey(canonical string, v tomledit.Value, rule string) {
	if line, ok := p.doc.LineOf(canonical); ok {
		p.doc.SetAt(line, v, rule)
		return
	}
	key := p.userKey(canonical)
	parent, leaf := splitKey(key)
	p.doc.Set(parent, leaf, v, rule)
}

// userKey is the name users write for a canonical key: the
// key-mappings.json name documented for it, else the key itself.
func (p *planner) userKey(canonical string) string {
	// Keys named after an XML parameter (MI's ...parameter.HttpsProtocols,
	// user_store.properties.ConnectionPassword) have a documented
	// deployment.toml name; other canonical keys are the documented ones.
	_, leaf := splitKey(canonical)
	internal := strings.Contains(canonical, ".parameter.") || strings.Contains(canonical, "'") ||
		(leaf != "" && leaf[0] >= 'A' && leaf[0] <= 'Z')
	if !internal {
		return canonical
	}
	var best string
	for written, targets := range p.eff.Mappings {
		for _, t := range targets {
			if t == canonical && (best == "" || written < best) {
				best = written
			}
		}
	}
	if best != "" {
		return best
	}
	return canonical
}

// splitKey splits a flat key into its table and last part, respecting
// quoted parts (passthru_http.'http.origin-server').
func splitKey(k string) (string, string) {
	inQuote := byte(0)
	last := -1
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '\'' || c == '"':
			inQuote = c
		case c == '.':
			last = i
		}
	}
	if last < 0 {
		return "", k
	}
	return k[:last], k[last+1:]
}

// raw is a key's resolved, unredacted value.
func (p *planner) raw(key string) (string, bool) {
	v, ok := p.eff.Config.Lookup(key)
	if !ok {
		return "", false
	}
	return v.Text(), true
}
