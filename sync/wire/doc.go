// Package wire is the sync protocol that gates and the hub share: the
// batches of sealed events a gate uploads, the hub's acknowledgements and
// signed time, and the trust documents the gate fetches. It has no code yet;
// the sync issue builds it.
package wire
