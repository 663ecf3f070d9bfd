// Package scanner is the domain of a Checkpoint gate: passes, the trust
// documents that say which passes to believe, site policy, and the decision
// a gate makes on each read.
//
// It does no I/O. Time is always an argument, and the only imports beyond
// the standard library are what parsing the pass format needs (CBOR).
// Adapters (the store, the camera, sync) sit around it and are connected by
// the commands.
//
// # Passes
//
// A pass is a CWT (RFC 8392) in a COSE_Sign1 (RFC 9052) signed with EdDSA
// over Ed25519, its kid and content type in the protected header, encoded
// with Base45 (RFC 9285) behind the prefix PassPrefix so that a QR code holds
// it in alphanumeric mode. IssuePass makes one; Decide reads one.
// docs/pass-format.md documents every field and claim key.
//
// Parsing bounds every length (MaxPassText, the CBOR limits), refuses
// trailing bytes, unknown header labels, unknown claims, duplicate map keys,
// indefinite lengths and any encoding that is not deterministic, so a pass
// has exactly one text. It never panics.
//
// # Trust
//
// A gate holds one root public key. A Trust is built from it and from signed
// documents: a KeySet (signed by the root), StatusLists and their deltas
// (signed by the root or a status signer for the list's issuer) and Policies
// (the root or a policy signer for the site). Versions never go backwards:
// the With methods refuse an older document (ErrOlder). A Trust is never
// modified; the With methods return a new one.
//
// # Decisions
//
// Decide is a pure function of the pass text, the trust, the policy, the
// gate's local memory, the gate and the time. A bad pass is a Decision with
// Allow false and a Reason, never an error. The checks run in a fixed order:
// format, key, signature, claims, key validity, time, site, trust age,
// colour, class, quarantine, anti-passback, household quota; emergency mode
// then opens any exit.
//
// # Time
//
// A Moment is the wall time and whether it is trusted. An untrusted Moment
// is a lower bound (the persisted time floor): a pass expired by it is
// expired, but not-before cannot be judged, and the policy's ClockUnknown
// rule decides.
package scanner
