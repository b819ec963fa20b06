package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Finding is the verdict of one rule on one target.
type Finding struct {
	RuleID   string   `json:"rule"`
	Title    string   `json:"title"`
	Target   string   `json:"target"`
	Status   Status   `json:"status"`
	Severity Severity `json:"severity"`
	// Domain is the rule's family (tls, keys, secrets, ...).
	Domain  string `json:"domain"`
	Message string `json:"message"`
	// Checks lists the kinds of check that were judged (file, host, probe,
	// manual), in the order the rule declares them.
	Checks      []string   `json:"checks"`
	Evidence    []Evidence `json:"evidence"`
	Remediation string     `json:"remediation"`
	References  []string   `json:"references"`
	Fingerprint string     `json:"fingerprint"`
	// Exception is the waiver or attestation applied, or one that expired.
	Exception *Exception `json:"exception,omitempty"`
}

// Evidence is one observation behind a finding: where it was seen, which
// fact it is, and its value with secrets redacted.
type Evidence struct {
	// Source is a file path (relative to the target) or an endpoint.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Path is the fact path the rule read (tls.versions).
	Path  string `json:"path,omitempty"`
	Value string `json:"value,omitempty"`
	// Check is the kind of check that produced it (file, host, probe).
	Check string `json:"check,omitempty"`
}

// Location renders Source:Line, or Source alone.
func (e Evidence) Location() string {
	if e.Line > 0 {
		return e.Source + ":" + strconv.Itoa(e.Line)
	}
	return e.Source
}

// Exception records a waiver or attestation that was applied to a finding
// or found expired.
type Exception struct {
	// Kind is waiver or attestation.
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
	By      string `json:"by"`
	Expires string `json:"expires"` // YYYY-MM-DD
	// Expired is true when it no longer applies.
	Expired bool `json:"expired"`
	// Status is the status the finding had before the exception.
	Original Status `json:"original"`
}

// Fingerprint is a stable identifier of a finding: the same target, rule
// and evidence key give the same fingerprint on every run, whatever the
// status or evidence values, so history can say first seen and fixed at.
func Fingerprint(target, ruleID, key string) string {
	h := sha256.New()
	for _, s := range []string{"rampart/finding/v1", target, ruleID, key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
