package collect

import (
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netfail"
)

// Failure is the status of a fact path that could not be collected
// because of err, with the network cause when err has one (netfail.Of).
func Failure(err error) facts.Status {
	return facts.Failure(err, string(netfail.Of(err)))
}

// Cause is err's network cause, as the facts' *_cause fields record it
// ("" for none, and for no error).
func Cause(err error) string { return string(netfail.Of(err)) }
