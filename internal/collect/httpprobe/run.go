package httpprobe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// probeSpec is one path to ask for.
type probeSpec struct {
	k        knownPath
	declared bool // an inventory health path
	notFound bool // the path that cannot exist
}

// verdict is how a path answered, as the facts say it.
type verdict struct {
	reachable bool // answered with content (or an application error)
	auth      bool // asked for credentials (401/407)
	catchAll  bool // would have counted, but is the server's catch-all answer
}

// run probes the endpoint: the base URL first (it decides whether this
// is HTTP at all), then the known paths (on as many connections as they
// need: see fetchAll), then, if allowed,
// the default-credential logins.
func (p *prober) run(ctx context.Context) (*facts.HTTP, error) {
	root := p.fetch(ctx, request{method: http.MethodGet, path: p.base.RequestURI(), follow: true, pageScan: true})
	if len(root.hops) == 0 {
		err := root.err
		if isNotHTTP(err) {
			err = fmt.Errorf("%w: %w", errNotHTTP, err)
		}
		return nil, fmt.Errorf("http probe %s: %w", root.url, err)
	}
	digest(root)

	specs := p.plan()
	answers := make([]*answer, len(specs))
	p.fetchAll(ctx, specs, answers)

	nf := answers[0].sig
	verdicts := make([]verdict, len(specs))
	for i, a := range answers {
		if !specs[i].notFound {
			verdicts[i] = classify(a, nf)
		}
	}
	login, loginAnswers := p.defaultLogin(ctx, specs, answers, verdicts)
	hf := p.build(root, specs, answers, verdicts, loginAnswers)
	hf.DefaultLogin = login
	return hf, nil
}

// plan lists the paths to probe: the not-found probe first, then the
// catalogue, then declared health paths the catalogue does not have.
func (p *prober) plan() []probeSpec {
	declared := map[string]bool{}
	var extra []string
	for _, raw := range p.t.Decl.HealthPaths {
		path, ok := p.ownPath(raw)
		if !ok {
			p.env.Log().Warn("http probe: health path is not on this endpoint; skipped", "target", p.t.Name, "path", raw)
			continue
		}
		if !declared[path] {
			declared[path] = true
			extra = append(extra, path)
		}
	}
	specs := []probeSpec{{k: knownPath{path: notFoundPath}, notFound: true}}
	for _, k := range catalogue {
		specs = append(specs, probeSpec{k: k, declared: declared[k.path]})
		delete(declared, k.path)
	}
	for _, path := range extra {
		if declared[path] {
			specs = append(specs, probeSpec{k: knownPath{path: path, category: catHealth}, declared: true})
		}
	}
	return specs
}

// ownPath turns an inventory path ("/health", "health", or a URL of this
// endpoint) into a path and query from the root.
func (p *prober) ownPath(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || !p.sameHost(u) || portOf(u) != p.t.Port {
			return "", false
		}
		return u.RequestURI(), true
	}
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	return raw, true
}

// classify decides how a path answered. Refused, failed, 403, 404, 410,
// 451 and a proxy's 502/504 are blocked or absent; 401/407 asks for
// credentials; anything else an application sent (a page, a redirect off
// the host, a 400 or 405 for a missing parameter, a 500) is reachable,
// unless it is the same answer a path that cannot exist gets (and that
// answer is not a product page).
func classify(a *answer, notFound signature) verdict {
	st := a.status()
	if st == 0 || a.err != nil {
		return verdict{}
	}
	var v verdict
	switch st {
	case http.StatusUnauthorized, http.StatusProxyAuthRequired:
		v.auth = true
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusUnavailableForLegalReasons,
		http.StatusMisdirectedRequest, http.StatusBadGateway, http.StatusGatewayTimeout:
		return v
	default:
		v.reachable = st >= 200 && st < 600
	}
	if sameAnswer(a.sig, notFound) {
		// The server's catch-all answer says nothing about this path,
		// unless it is the product's own page: a proxy that sends every
		// path to the Carbon console does expose it.
		if a.productPage != "" {
			v.catchAll = true
			return v
		}
		return verdict{catchAll: true}
	}
	return v
}
