// Package ed25519cmp holds a benchmark only: the standard library's
// Ed25519 verification beside github.com/oasisprotocol/curve25519-voi's,
// with and without its per-key precomputation, which the gate does not use
// (BENCHMARKS.md, "Scan to decision", says why). Run
//
//	cd bench && go test ./ed25519cmp -bench . -count 3
//	cd bench && go test ./ed25519cmp -bench . -count 3 -tags purego
//
// the second without either library's amd64 assembly, as on the gate's ARM.
package ed25519cmp
