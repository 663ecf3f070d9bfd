package store

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
)

// The sidecar's copy of the time floor follows the events while the log is
// open, saved beside the appends rather than in them.
func TestSidecarFloorFollowsAppends(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.db")
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, Now: func() time.Time { return recBase }})
	if err != nil {
		t.Fatal(err)
	}
	sidecarFloor := func() int64 {
		t.Helper()
		s, found, err := readSidecar(sidecarPath(path))
		if err != nil || !found {
			t.Fatalf("read sidecar: found %v, %v", found, err)
		}
		return s.floor
	}
	// Less than a step past: no save is due.
	at := recBase.Add(sidecarFloorStep / 2)
	if _, err := l.Append(&scanner.Event{Wall: at.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	// A step past: the saver copies it, while the log stays open.
	at = at.Add(sidecarFloorStep)
	if _, err := l.Append(&scanner.Event{Wall: at.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sidecarFloor() != at.UnixNano() {
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar's floor %v never reached the event at %v", time.Unix(0, sidecarFloor()).UTC(), at)
		}
		time.Sleep(time.Millisecond)
	}
	// Close saves the last floor, however little it moved, and stops the
	// saver; appends after it fail.
	at = at.Add(time.Second)
	if _, err := l.Append(&scanner.Event{Wall: at.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := sidecarFloor(); got != at.UnixNano() {
		t.Fatalf("after Close the sidecar's floor is %v, want %v", time.Unix(0, got).UTC(), at)
	}
	if _, err := l.Append(&scanner.Event{Wall: at.UnixNano()}); err != ErrClosed {
		t.Fatalf("append after Close: %v", err)
	}
	if err := l.Close(); err != ErrClosed {
		t.Fatalf("second Close: %v", err)
	}
}

// Appends, floor raises and Close at once: no panic, no send on a closed
// channel, no goroutine left; what comes after Close gets ErrClosed.
func TestFloorSaverCloseRace(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "events.db")
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, Now: func() time.Time { return recBase }})
		if err != nil {
			t.Fatal(err)
		}
		NoSyncForTest(l, true)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 50 {
					// Each step far enough on that the sidecar's copy is due.
					at := recBase.Add(time.Duration(w*1000+i) * sidecarFloorStep)
					var err error
					if i%2 == 0 {
						_, err = l.Append(&scanner.Event{Wall: at.UnixNano()})
					} else {
						err = l.RaiseTimeFloor(at)
					}
					if err != nil && !errors.Is(err, ErrClosed) {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(round) * 100 * time.Microsecond)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if _, err := l.Append(&scanner.Event{Wall: recBase.UnixNano()}); !errors.Is(err, ErrClosed) {
			t.Fatalf("append after Close: %v", err)
		}
	}
}
