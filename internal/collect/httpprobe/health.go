package httpprobe

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// unhealthyStates are "status" values of JSON health answers that mean
// not ready or not alive, whatever the HTTP status.
var unhealthyStates = map[string]bool{
	"down": true, "out_of_service": true, "unhealthy": true, "not ready": true, "not_ready": true,
	"notready": true, "unready": true, "fail": true, "failed": true, "failure": true, "error": true,
	"dead": true, "not live": true, "stopped": true,
}

// healthProbe is how one health endpoint answered and how long it took.
// Healthy means a 2xx answer whose JSON status, if any, is not a down
// state.
func healthProbe(s probeSpec, a *answer) facts.HealthProbe {
	st := a.status()
	return facts.HealthProbe{
		URL:       a.url,
		Path:      s.k.path,
		Status:    st,
		Healthy:   a.err == nil && isContent(st) && !unhealthyStates[strings.ToLower(strings.TrimSpace(a.jsonStatus))],
		LatencyMS: ms(a.latency),
		Error:     a.errText(),
		Cause:     a.errCause(),
		Origin:    facts.Origin{Endpoint: a.url},
		Declared:  s.declared,
		State:     a.jsonStatus,
	}
}
