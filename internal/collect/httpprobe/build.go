package httpprobe

import (
	"slices"
	"sort"
	"strconv"

	"github.com/rampart-sec/rampart/internal/facts"
)

// build turns the answers into the http facts. Every list is in a fixed
// order (the catalogue's, or sorted), so the same server gives the same
// facts.
func (p *prober) build(root *answer, specs []probeSpec, answers []*answer, verdicts []verdict, extra []*answer) *facts.HTTP {
	hf := &facts.HTTP{
		URL:           root.url,
		HTTPS:         p.scheme == "https",
		Disclosures:   []facts.Disclosure{},
		ServerHeaders: []string{},
		Pages:         []facts.Page{},
		Cookies:       []facts.Cookie{},
		Paths:         []facts.PathProbe{},
		Health:        []facts.HealthProbe{},
		RootStatus:    root.status(),
	}
	all := append(append([]*answer{root}, answers...), extra...)
	hf.Disclosures = disclosuresOf(all)
	hf.ServerHeaders = serverHeaders(all)
	hf.Cookies = cookieSet(all)
	hf.HSTS = rootHSTS(root)
	hf.NotFoundStatus = answers[0].status()
	if hf.HTTPS {
		hf.TLSClient = clientGo
		if p.useTLSWire.Load() {
			hf.TLSClient = clientTLSWire
		}
	}

	for i, s := range specs {
		if s.notFound {
			continue
		}
		a, v := answers[i], verdicts[i]
		hf.Paths = append(hf.Paths, pathProbe(s, a, v))
		fin := a.final()
		if s.k.page != "" && v.reachable && fin != nil && isContent(fin.Status) {
			hf.Pages = append(hf.Pages, pageOf(s.k, fin))
		}
		if s.k.page != "" && hf.HTTPS && v.reachable && fin != nil && isContent(fin.Status) && fin.HTTPS {
			if h := hstsOf(fin.Header, true); !h.Present || h.Problem != "" {
				hf.HSTS.MissingOn = append(hf.HSTS.MissingOn, s.k.path)
			}
		}
		if s.k.category == catHealth && (s.declared || v.reachable) {
			hf.Health = append(hf.Health, healthProbe(s, a))
		}
	}
	return hf
}

func pathProbe(s probeSpec, a *answer, v verdict) facts.PathProbe {
	pp := facts.PathProbe{
		Path:         s.k.path,
		Category:     s.k.category,
		Page:         s.k.page,
		Status:       a.status(),
		Reachable:    v.reachable,
		AuthRequired: v.auth,
		CatchAll:     v.catchAll,
		ProductPage:  a.productPage,
		Error:        a.errText(),
		Cause:        a.errCause(),
		URL:          a.url,
		Location:     a.location,
		Products:     slices.Clone(s.k.products),
		LatencyMS:    ms(a.latency),
		Origin:       facts.Origin{Endpoint: a.url},
	}
	if pp.Products == nil {
		pp.Products = []string{}
	}
	if len(a.hops) > 1 {
		pp.Redirects = len(a.hops) - 1
		pp.FinalURL = a.final().URL
	}
	return pp
}

// rootHSTS is the policy of the base URL: the first HTTPS response of its
// redirect chain that sets one.
func rootHSTS(root *answer) facts.HSTS {
	for _, h := range root.hops {
		if !h.HTTPS {
			continue
		}
		if hs := hstsOf(h.Header, true); hs.Present {
			hs.URL = h.URL
			return hs
		}
	}
	return facts.HSTS{URL: root.url, MissingOn: []string{}}
}

// disclosuresOf gathers the disclosures of every answer, once per
// (where, value), first URL kept.
func disclosuresOf(all []*answer) []facts.Disclosure {
	out := []facts.Disclosure{}
	seen := map[[2]string]bool{}
	for _, a := range all {
		for _, d := range a.disclosures {
			k := [2]string{d.Where, d.Value}
			if !seen[k] {
				seen[k] = true
				out = append(out, d)
			}
		}
	}
	return out
}

func serverHeaders(all []*answer) []string {
	set := map[string]bool{}
	for _, a := range all {
		for _, h := range a.hops {
			for _, v := range h.Header.Values("Server") {
				set[clip(v)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// cookieSet keeps each distinct cookie (name and attributes) once, with
// the first URL that set it, sorted by name.
func cookieSet(all []*answer) []facts.Cookie {
	out := []facts.Cookie{}
	seen := map[string]bool{}
	for _, a := range all {
		for _, c := range a.cookies {
			k := c.Name + "\x00" + strconv.Itoa(c.Length) + "\x00" + strconv.FormatBool(c.Secure) + strconv.FormatBool(c.HTTPOnly) + "\x00" + c.SameSite
			if !seen[k] {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
