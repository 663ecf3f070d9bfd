// Package store keeps the gate's data on its SD card, in two bbolt files.
//
// The trust cache ([Trust], [OpenTrust]) holds the signed trust documents
// (key sets, status lists, policies) as opaque bytes; it can be rebuilt by
// a full download. The event log ([Log], [OpenLog]) holds the gate's only
// precious data, the log of passes, together with the gate state the
// decisions need (the last direction of each pass, for anti-passback; the
// exits of each household, for the quota) and the time floor, so that an
// event and the state it changes commit in one transaction.
//
// # Durability
//
// A Log.Append returns only once its transaction is on disk (bbolt with
// fsync; NoSync is never set), so the gate opens only for a logged event.
// Events are keyed by a per-device sequence that is never reused: within a
// log the counter commits with the event, and a sidecar file beside the log
// ("<path>.sidecar", two checksummed slots written in turn) reserves
// sequences in blocks
// ahead of use, so a fresh log started after a damaged one was moved aside
// goes on past every sequence the old one used. The hub acknowledges
// events with Ack; acknowledged events are deleted in one transaction (or
// kept for LogOptions.Retention); unacknowledged events are never deleted.
//
// # Integrity
//
// Open runs bbolt's consistency check (tx.Check) and the store's own schema
// checks. A damaged file is moved aside to "<path>.corrupt-<UTC time>",
// never deleted, and a fresh one started; the open reports it (Recovery,
// Stats, an error-level log line). The events the damaged log still holds
// and the hub had not acknowledged are carried into the fresh log, sealed
// as they were and under their own sequences, so they still reach the hub
// (salvage.go; a carry the process died in is taken up at the next open;
// one that fails otherwise keeps what it carried, and the rest stays in the
// damaged file). An open that crashes the process (as a
// badly damaged file can) is counted in the sidecar; after three opens that
// did not finish, the file is treated as damaged. A file written by a newer
// build is refused with ErrSchema (the event log) or rebuilt (the trust
// cache). New files are created atomically (temp file, fsync, rename, fsync
// the directory). Older schemas are migrated at open.
//
// # Full disk
//
// Appends stop with ErrFull at LogOptions.MaxSize, or earlier when the file
// system is full or refuses to grow the file. A failed commit leaves the
// file as it was. Deletions (Ack, expiry, retention) may use a headroom past
// MaxSize, so that a full log can always be drained; appends resume once
// they freed space.
//
// # Privacy at rest
//
// Nothing that identifies a holder is written in the clear. Events are
// sealed to the hub's public key (package seal) before they reach the
// file; the device cannot open them. Gate state is keyed by a keyed hash
// (BLAKE2b-256 with a random key kept in the log) and expires after
// LogOptions.StateHorizon. docs/threat-model.md says what a thief can still
// learn.
//
// # Time
//
// The store takes time as an input: event times come from the events,
// RaiseTimeFloor takes the time, and the few times the store reads the
// clock itself (write times, the check time, acknowledgement times) go
// through the options' Now. The event log holds them at its time floor;
// the trust cache has no floor, and its write times are the clock's.
package store
