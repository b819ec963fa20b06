// Package facts holds the typed, JSON-named observations that collectors
// gather about a target and that rules judge. It has no behaviour beyond
// small helpers: no I/O, no judgement. Field names are a contract with the
// rule files (CEL expressions address facts by their JSON names, for
// example tls.versions or product.jvm.dh_key_size), so fields are added,
// never renamed.
//
// Secrets never enter a fact: a collector that reads a password records
// only its form (plain text, $secret{} reference, ...) and whether it equals
// a publicly known default, never the value.
package facts
