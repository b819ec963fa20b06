package log4j

import (
	"sort"
	"strconv"
	"strings"
)

// Appender is one appender.<id>.* group of a log4j2.properties file.
type Appender struct {
	ID          string
	Name        string
	Type        string
	FileName    string
	FilePattern string
	// Policies are the triggering policy types (TimeBasedTriggeringPolicy,
	// SizeBasedTriggeringPolicy, ...), sorted.
	Policies []string
	// MaxBackups is strategy.max (0 when unset or not a number).
	MaxBackups int
	Pattern    string
	// Line is where the appender's type is declared.
	Line int
}

// Appenders lists the appenders declared in props, sorted by ID.
func Appenders(props []Prop) []Appender {
	byID := map[string]*Appender{}
	get := func(id string) *Appender {
		a, ok := byID[id]
		if !ok {
			a = &Appender{ID: id, Name: id}
			byID[id] = a
		}
		return a
	}
	for _, p := range props {
		rest, ok := strings.CutPrefix(p.Key, "appender.")
		if !ok {
			continue
		}
		id, attr, ok := strings.Cut(rest, ".")
		if !ok || id == "" {
			continue
		}
		v := strings.TrimSpace(p.Value)
		switch {
		case attr == "type":
			a := get(id)
			a.Type, a.Line = v, p.Line
		case attr == "name":
			get(id).Name = v
		case attr == "fileName":
			get(id).FileName = v
		case attr == "filePattern":
			get(id).FilePattern = v
		case attr == "layout.pattern":
			get(id).Pattern = v
		case attr == "strategy.max":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				get(id).MaxBackups = n
			}
		case strings.HasPrefix(attr, "policies.") && strings.HasSuffix(attr, ".type") && v != "" && v != "Policies":
			a := get(id)
			a.Policies = append(a.Policies, v)
		}
	}
	out := make([]Appender, 0, len(byID))
	for _, a := range byID {
		if a.Type == "" {
			continue // attributes without a declared appender
		}
		sort.Strings(a.Policies)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
