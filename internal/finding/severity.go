package finding

import "fmt"

// Severity orders how much a failure matters: Info < Low < Medium < High <
// Critical. None is above everything and only serves --fail-on none.
type Severity int

const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
	// None is a threshold no finding reaches.
	None
)

func severityName(k Severity) (string, bool) {
	switch k {
	case Info:
		return "info", true
	case Low:
		return "low", true
	case Medium:
		return "medium", true
	case High:
		return "high", true
	case Critical:
		return "critical", true
	case None:
		return "none", true
	}
	return "", false
}

// Severities lists the finding severities from least to most severe.
func Severities() []Severity { return []Severity{Info, Low, Medium, High, Critical} }

func (s Severity) String() string {
	if n, ok := severityName(s); ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity parses a severity name; none is accepted as a threshold.
func ParseSeverity(s string) (Severity, error) {
	for _, k := range append(Severities(), None) {
		if n, _ := severityName(k); n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high, critical or none)", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) {
	if _, ok := severityName(s); !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
