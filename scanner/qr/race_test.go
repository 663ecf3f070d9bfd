//go:build race

package qr_test

// raceEnabled is true when the tests run under the race detector, which
// makes decoding about ten times slower.
const raceEnabled = true
