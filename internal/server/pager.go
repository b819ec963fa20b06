package server

import (
	"net/url"
	"strconv"

	"github.com/rampart-sec/rampart/internal/store"
)

// pager links the pages of a list shown on the dashboard; every filter
// stays in the URL, so a view can be bookmarked, shared and exported.
type pager struct {
	From, To, Total int
	Prev, Next      string
	// First is true when Prev goes back to the first page (keyset paging
	// cannot step back one page).
	First bool
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
		if k != "offset" && k != "after" && k != "from" && len(v) > 0 && v[0] != "" {
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

// keysetPager links the pages of a list paged by cursor: Next carries the
// last row's cursor (next) and the position of the page after it (from,
// only shown); Prev goes back to the first page.
func keysetPager(path string, q url.Values, limit, n, total int, next string) pager {
	from, _ := strconv.Atoi(q.Get("from"))
	from = max(1, from)
	p := newPager(path, q, 0, limit, n, total)
	p.From, p.To, p.Prev, p.Next = from, from+n-1, "", ""
	if n == 0 {
		p.From = 0
	}
	first := path
	if p.Query != "" {
		first += "?" + p.Query
	}
	if q.Get("after") != "" || q.Get("offset") != "" {
		p.Prev, p.First = first, true
	}
	if n == limit && next != "" && from+n-1 < total {
		v, _ := url.ParseQuery(p.Query)
		v.Set("after", next)
		v.Set("from", strconv.Itoa(from+n))
		p.Next = path + "?" + v.Encode()
	}
	return p
}

// findingsPager pages latest findings: by cursor onwards from any page,
// so a page deep in a long list costs what the first does.
func findingsPager(path string, q url.Values, f store.Filter, recs []store.Record, total int) pager {
	if f.After == "" && f.Offset > 0 {
		c := url.Values{}
		for k, v := range q {
			c[k] = v
		}
		c.Set("from", strconv.Itoa(f.Offset+1))
		q = c
	}
	next := ""
	if len(recs) > 0 {
		next = f.Cursor(recs[len(recs)-1])
	}
	return keysetPager(path, q, f.Limit, len(recs), total, next)
}
