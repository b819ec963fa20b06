package pkgdb

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// repoMD is what a repository's repomd.xml says: where each metadata file
// is and when it was generated.
type repoMD struct {
	Revision string
	// Files maps a data type (primary, updateinfo, modules) to its
	// location, relative to the repository (repodata/...-primary.xml.gz).
	Files map[string]string
	// Generated is the newest <timestamp> of the data files.
	Generated time.Time
}

type xmlRepoMD struct {
	Revision string `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Timestamp string `xml:"timestamp"`
	} `xml:"data"`
}

// parseRepoMD reads repomd.xml.
func parseRepoMD(b []byte) (*repoMD, error) {
	var x xmlRepoMD
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	md := &repoMD{Revision: strings.TrimSpace(x.Revision), Files: map[string]string{}}
	for _, dt := range x.Data {
		href := path.Clean("/" + strings.TrimSpace(dt.Location.Href))[1:]
		if dt.Type == "" || href == "" {
			continue
		}
		if _, dup := md.Files[dt.Type]; !dup {
			md.Files[dt.Type] = href
		}
		if ts, err := strconv.ParseFloat(strings.TrimSpace(dt.Timestamp), 64); err == nil && ts > 0 && ts < 1<<40 {
			if t := time.Unix(int64(ts), 0).UTC(); t.After(md.Generated) {
				md.Generated = t
			}
		}
	}
	if len(md.Files) == 0 {
		return nil, fmt.Errorf("repomd.xml lists no metadata files")
	}
	return md, nil
}
