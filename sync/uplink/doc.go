// Package uplink is the gate's side of sync: one Sync round (upload pending
// events, then fetch trust documents), and Run, which repeats rounds with
// jittered backoff and never blocks scanning. It has no code yet; the sync
// issue builds it.
package uplink
