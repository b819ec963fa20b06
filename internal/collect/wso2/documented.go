package wso2

import (
	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// A product pack merges, at build time, the default.json of the kernel and
// of every feature into the repository/resources/conf/default.json it
// ships. Files at hand can lack part of that: a source reconstruction
// holds only the product's and the kernel's inputs (not the identity
// features'), a deployment.toml copied out of a container holds nothing
// else. A value only those defaults hold is then taken, for every rule the
// same way, from the product's documented default (products.yaml
// documented_defaults, for the versions it is documented for), and the
// evidence says so; where no default is documented the value stays unknown
// and the rules that need it end in error (Product.DefaultsIncomplete).

// documentedEntries are the documented defaults of the product, as the
// lowest configuration layer. One used beyond the versions it is documented
// for says so in its origin, and in a note.
func documentedEntries(kb *wso2kb.Layout) ([]tomlcfg.Entry, []string) {
	var notes []string
	ds := kb.Defaults()
	out := make([]tomlcfg.Entry, 0, len(ds))
	for _, d := range ds {
		from := d.Source
		if d.Beyond != "" {
			from += " (" + d.Beyond + ")"
			notes = append(notes, "documented default of "+d.Key+": "+d.Beyond)
		}
		out = append(out, tomlcfg.Entry{Key: d.Key, Value: d.Value, File: "documented product default", Layer: tomlcfg.Documented, From: from})
	}
	return out, notes
}
