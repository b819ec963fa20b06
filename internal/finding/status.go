// Package finding holds the results of a scan: findings with their status,
// severity and evidence, and the report that gathers them. It depends on
// the standard library only, so every other package can speak it.
package finding

import (
	"fmt"
	"strings"
)

// Status is the outcome of one rule on one target.
type Status string

const (
	// Pass: the guideline is met.
	Pass Status = "pass"
	// Fail: the guideline is not met.
	Fail Status = "fail"
	// Error: rampart could not tell (a collector failed or timed out, or no
	// collector exists yet); Message says why.
	Error Status = "error"
	// NotApplicable: the guideline does not apply to this target.
	NotApplicable Status = "not_applicable"
	// Manual: the guideline cannot be observed; an attestation is needed
	// and none is on file.
	Manual Status = "manual"
	// Attested: a manual guideline with a current attestation.
	Attested Status = "attested"
	// Waived: a failure accepted by a current waiver.
	Waived Status = "waived"
)

// Statuses lists every status in report order.
func Statuses() []Status {
	return []Status{Fail, Error, Manual, Waived, Attested, Pass, NotApplicable}
}

// ParseStatus parses a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want one of %s)", s, joinStatuses())
}

func joinStatuses() string {
	var b strings.Builder
	for i, st := range Statuses() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(st))
	}
	return b.String()
}
