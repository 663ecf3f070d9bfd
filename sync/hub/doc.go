// Package hub is the server side of sync, used by cmd/hub and by tests: it
// stores each gate's events once per (device, sequence), answers with the
// highest sequence durably stored, and serves signed trust documents. It has
// no code yet; the hub issue builds it.
package hub
