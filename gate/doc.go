// Package gate puts a gate's parts together: it takes reads from its inputs,
// decodes them, decides under the site's policy, logs the decision, and only
// then actuates the gate and shows the result.
//
// It depends on the domain (package scanner) and on small interfaces that
// the adapters satisfy: Log (the store's event log), Memory (the store's
// gate state), a QR decoder, and Outputs (a relay, hooks, JSON lines; the
// gatekeeper's page is to come). The command wires real adapters in; tests wire real
// ones too, with fakes only for hardware.
//
// # Order of work
//
// For each read: decode → decide → log (committed) → actuate → display. An
// allowed read always has its event committed before any output sees it.
// When the log cannot be written, the gate follows its LogFailure rule: by
// default it denies (nothing unlogged opens the gate, and nothing already
// logged is touched); in emergency mode exits open regardless.
//
// # Debounce
//
// A camera sees the same code in many frames. The same text, or the same
// pass (its issuer and pass ID) in another text, read again at the same
// input within the policy's debounce window of its last
// sighting (on the monotonic clock) is one decision: it is neither decided
// nor logged again. So is one read at another input while the input that
// decided it still sees it, within the window. In emergency mode a read
// at an exit is held back this way only by a read that let its holder out
// at another exit.
//
// Deciding and logging are one step across all inputs (decoding and the
// outputs are not), so rules that count earlier passages — a household's
// quota, anti-passback — see every passage logged before.
//
// # Time
//
// Clock gives each decision a scanner.Moment: the wall clock when it is
// trusted (synchronised, and not below the persisted time floor), otherwise
// the time floor advanced by the monotonic clock. That advanced floor is
// marked untrusted until the clock has had a trusted reading, or a trusted
// time from SetTrusted, in this run; after that it is marked trusted.
// Every event records which.
package gate
