package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// A hub that acknowledges sequences this log never wrote (an old copy of
// the log was restored) moves the counter past them (docs/store.md,
// "Sequences are never reused"), and the sidecar reserves past them too:
// a fresh log started after the log is damaged, with its counter
// unreadable, never hands out a sequence the hub already holds.
func TestAckPastTheEndSurvivesARecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	l, priv := newTestLog(t, path, LogOptions{})
	if _, err := l.Append(&scanner.Event{Wall: recBase.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()                  // the floor keeper writes the sidecar copy too
	through := l.side.hwm + 5000 // well past the block reserved so far
	l.mu.Unlock()
	if err := l.Ack(through); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	zeroMetas(t, path) // the counter, and the acknowledgement, are lost

	l = openRecovered(t, path, priv)
	seq, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Minute).UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	if seq <= through {
		t.Errorf("after the recovery the log appended sequence %d; the hub holds everything through %d", seq, through)
	}
}
