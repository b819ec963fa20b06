package server

import (
	"net/url"
	"strconv"
)

// pager links the pages of a list shown on the dashboard; every filter
// stays in the URL, so a view can be bookmarked, shared and exported.
type pager struct {
	From, To, Total int
	Prev, Next      string
	// Query is the page's filters without paging (for export links).
	Query string
}

// Export is the link to path with the page's filters (an export of the
// view the page shows).
func (p pager) Export(path string) string {
	if p.Query == "" {
		return path
	}
	return path + "?" + p.Query
}

// newPager makes the links of a page of n items at offset out of total,
// for the URL path with query q.
func newPager(path string, q url.Values, offset, limit, n, total int) pager {
	p := pager{From: offset + 1, To: offset + n, Total: total}
	if n == 0 {
		p.From = 0
	}
	base := url.Values{}
	for k, v := range q {
		if k != "offset" && len(v) > 0 && v[0] != "" {
			base[k] = v
		}
	}
	p.Query = base.Encode()
	link := func(off int) string {
		v := url.Values{}
		for k, x := range base {
			v[k] = x
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if e := v.Encode(); e != "" {
			return path + "?" + e
		}
		return path
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-limit))
	}
	if offset+n < total {
		p.Next = link(offset + limit)
	}
	return p
}
