package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// ShiftState moves the passages stamped in its span, and only those:
// pass directions and household exits alike, kept across a reopening.
func TestShiftState(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	l := openLog(t, path, store.LogOptions{Hub: priv.Public()})
	pass := func(id string, at time.Time, dir scanner.Direction, trusted bool) {
		t.Helper()
		appendPass(t, l, id, at, dir, trusted)
	}
	before, in1, in2 := t0, t0.Add(time.Minute), t0.Add(2*time.Minute)
	pass("old", before, scanner.Exit, true) // the last passage of an earlier boot, at the floor
	pass("a", in1, scanner.Exit, false)
	pass("b", in2, scanner.Entry, false)
	const by = 10 * 24 * time.Hour
	n, err := l.ShiftState(before, in2, by)
	if err != nil || n != 3 { // a's pass and exit, b's pass
		t.Fatalf("ShiftState moved %d, %v; want 3", n, err)
	}
	check := func(l *store.Log) {
		t.Helper()
		for id, want := range map[string]time.Time{"old": before, "a": in1.Add(by), "b": in2.Add(by)} {
			if _, at, ok, err := l.LastSeen([]byte(id)); err != nil || !ok || !at.Equal(want) {
				t.Errorf("pass %s last seen %v %v %v, want %v", id, at, ok, err, want)
			}
		}
		if n, err := l.HouseholdExits([]byte("house-a"), in1.Add(by)); err != nil || n != 1 {
			t.Errorf("household a: %d exits since its moved exit, %v; want 1", n, err)
		}
		if n, err := l.HouseholdExits([]byte("house-old"), before.Add(time.Nanosecond)); err != nil || n != 0 {
			t.Errorf("household old: %d exits after its unmoved exit, %v; want 0", n, err)
		}
	}
	check(l)
	l.Close()
	check(openLog(t, path, store.LogOptions{Hub: priv.Public()}))
}

// appendPass logs an allowed passage of pass id, of household "house-"+id,
// stamped at, at trusted time or not.
func appendPass(t *testing.T, l *store.Log, id string, at time.Time, dir scanner.Direction, trusted bool) {
	t.Helper()
	ev := &scanner.Event{Wall: at.UnixNano(), WallTrusted: trusted, Site: "s", Direction: dir, Allow: true, PassID: []byte(id), Household: []byte("house-" + id)}
	if _, err := l.Append(ev); err != nil {
		t.Fatal(err)
	}
}

// State stamped under an untrusted clock by an earlier run, which stopped
// before trusted time came, moves with the next run's first shift: those
// passages happened before that run began. A stamp moves once (past the
// span); the mark stays for the stamps still unmoved, across a reopening,
// until an event at trusted time ends the span.
func TestShiftStateMovesEarlierUntrustedRuns(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	opt := store.LogOptions{Hub: priv.Public()}
	l := openLog(t, path, opt)
	appendPass(t, l, "trusted", t0, scanner.Exit, true)
	appendPass(t, l, "a", t0.Add(time.Minute), scanner.Exit, false) // run 1, never trusted
	l.Close()

	l = openLog(t, path, opt) // run 2, untrusted from its floor
	floor := l.TimeFloor()
	appendPass(t, l, "b", floor.Add(time.Minute), scanner.Entry, false)
	const by = 10 * 24 * time.Hour
	if n, err := l.ShiftState(floor, floor.Add(30*time.Second), by); err != nil || n != 2 {
		t.Fatalf("a shift ending below b moved %d, %v; want a's pass and exit", n, err)
	}
	to := floor.Add(2 * time.Minute)
	if n, err := l.ShiftState(floor, to, by); err != nil || n != 1 {
		t.Fatalf("the shift up to the floor moved %d, %v; want b's pass (a's stamps moved past its span)", n, err)
	}
	seen := func(id string, want time.Time) {
		t.Helper()
		if _, at, ok, err := l.LastSeen([]byte(id)); err != nil || !ok || !at.Equal(want) {
			t.Errorf("pass %s last seen %v %v %v, want %v", id, at, ok, err, want)
		}
	}
	seen("trusted", t0)
	seen("a", t0.Add(time.Minute+by))
	seen("b", floor.Add(time.Minute+by))
	if n, err := l.HouseholdExits([]byte("house-a"), t0.Add(time.Minute+by)); err != nil || n != 1 {
		t.Errorf("household a: %d exits since its moved exit, %v; want 1", n, err)
	}
	if n, err := l.ShiftState(to, to.Add(time.Minute), by); err != nil || n != 0 {
		t.Errorf("a later shift moved %d, %v; want nothing: the earlier stamps moved", n, err)
	}
	l.Close()
	l = openLog(t, path, opt)
	e := to.Add(time.Minute)
	appendPass(t, l, "e", e, scanner.Entry, false)
	if n, err := l.ShiftState(to.Add(2*time.Minute), to.Add(3*time.Minute), time.Hour); err != nil || n != 1 {
		t.Errorf("after a reopening, a shift moved %d, %v; want e's pass, below its from, by the mark", n, err)
	}
	seen("e", e.Add(time.Hour))

	c := to.Add(time.Hour)
	appendPass(t, l, "c", c, scanner.Entry, false)
	appendPass(t, l, "d", c.Add(time.Minute), scanner.Entry, true)
	if n, err := l.ShiftState(c.Add(time.Minute), c.Add(2*time.Minute), by); err != nil || n != 0 {
		t.Errorf("a shift after an event at trusted time moved %d, %v; want nothing", n, err)
	}
	seen("c", c)
}
