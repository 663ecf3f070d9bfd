package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// ShiftState moves the passages stamped in its span, and only those:
// pass directions and household exits alike, kept across a reopening. It
// raises the time floor to the span's end moved.
func TestShiftState(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	opt := store.LogOptions{Hub: priv.Public(), StateHorizon: 30 * 24 * time.Hour} // the unmoved one stays in sight
	l := openLog(t, path, opt)
	pass := func(id string, at time.Time, dir scanner.Direction, trusted bool) {
		t.Helper()
		appendPass(t, l, id, at, dir, trusted)
	}
	before, in1, in2 := t0, t0.Add(time.Minute), t0.Add(2*time.Minute)
	pass("old", before, scanner.Exit, true) // the last passage of an earlier boot, at the floor
	pass("a", in1, scanner.Exit, false)
	pass("b", in2, scanner.Entry, false)
	const by = 10 * 24 * time.Hour
	n, err := l.ShiftState(before, in2, by, true)
	if err != nil || n != 3 { // a's pass and exit, b's pass
		t.Fatalf("ShiftState moved %d, %v; want 3", n, err)
	}
	check := func(l *store.Log) {
		t.Helper()
		for id, want := range map[string]time.Time{"old": before, "a": in1.Add(by), "b": in2.Add(by)} {
			if _, at, ok, err := l.LastSeen("", []byte(id)); err != nil || !ok || !at.Equal(want) {
				t.Errorf("pass %s last seen %v %v %v, want %v", id, at, ok, err, want)
			}
		}
		if n, err := l.HouseholdExits("", []byte("house-a"), in1.Add(by)); err != nil || n != 1 {
			t.Errorf("household a: %d exits since its moved exit, %v; want 1", n, err)
		}
		if n, err := l.HouseholdExits("", []byte("house-old"), before.Add(time.Nanosecond)); err != nil || n != 0 {
			t.Errorf("household old: %d exits after its unmoved exit, %v; want 0", n, err)
		}
	}
	check(l)
	if f := l.TimeFloor(); !f.Equal(in2.Add(by)) {
		t.Errorf("time floor %v after the shift, want %v", f, in2.Add(by))
	}
	l.Close()
	check(openLog(t, path, opt))
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
// passages happened before that run began. Until an event at trusted time
// (or a shift to trusted time) ends the span, the stamps stay lower
// bounds: the next shift, in a later run too (its floor raised by the
// first, a build's time), moves them all again.
func TestShiftStateMovesEarlierUntrustedRuns(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	opt := store.LogOptions{Hub: priv.Public(), StateHorizon: 30 * 24 * time.Hour}
	l := openLog(t, path, opt)
	appendPass(t, l, "trusted", t0, scanner.Exit, true)
	a := t0.Add(time.Minute)
	appendPass(t, l, "a", a, scanner.Exit, false) // run 1, never trusted
	l.Close()

	l = openLog(t, path, opt) // run 2, untrusted from its floor
	floor := l.TimeFloor()
	b := floor.Add(time.Minute)
	appendPass(t, l, "b", b, scanner.Entry, false)
	const by = 10 * 24 * time.Hour
	to := floor.Add(2 * time.Minute) // a newer build's time came
	if n, err := l.ShiftState(floor, to, by, false); err != nil || n != 3 {
		t.Fatalf("ShiftState moved %d, %v; want a's pass and exit, below its span, and b's pass", n, err)
	}
	seen := func(id string, want time.Time) {
		t.Helper()
		if _, at, ok, err := l.LastSeen("", []byte(id)); err != nil || !ok || !at.Equal(want) {
			t.Errorf("pass %s last seen %v %v %v, want %v", id, at, ok, err, want)
		}
	}
	seen("trusted", t0)
	seen("a", a.Add(by))
	seen("b", b.Add(by))
	if n, err := l.HouseholdExits("", []byte("house-a"), a.Add(by)); err != nil || n != 1 {
		t.Errorf("household a: %d exits since its moved exit, %v; want 1", n, err)
	}
	l.Close() // the power goes before an event at trusted time

	l = openLog(t, path, opt) // run 3: its floor is the moved span's end
	f3 := l.TimeFloor()
	if !f3.Equal(to.Add(by)) {
		t.Fatalf("run 3's floor %v, want %v", f3, to.Add(by))
	}
	if n, err := l.ShiftState(f3, f3, time.Hour, false); err != nil || n != 3 { // a newer build's time
		t.Errorf("run 3's shift moved %d, %v; want the three unsettled entries again", n, err)
	}
	seen("a", a.Add(by+time.Hour))
	seen("b", b.Add(by+time.Hour))

	d := l.TimeFloor().Add(time.Minute)
	appendPass(t, l, "d", d, scanner.Entry, true)
	l.Close()
	l = openLog(t, path, opt)
	if n, err := l.ShiftState(d, d.Add(time.Minute), by, false); err != nil || n != 0 {
		t.Errorf("a shift after an event at trusted time (and a reopening) moved %d, %v; want nothing", n, err)
	}
	seen("a", a.Add(by+time.Hour))
}

// A shift to trusted time settles the state stamped untrusted, as an event
// at trusted time would: when the power goes before the next commit, the
// next run's shift does not move those passages again.
func TestTrustedShiftSettles(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	opt := store.LogOptions{Hub: priv.Public(), StateHorizon: 30 * 24 * time.Hour}
	l := openLog(t, path, opt)
	a := t0.Add(time.Minute)
	appendPass(t, l, "a", a, scanner.Exit, false) // run 1, never trusted
	l.Close()

	l = openLog(t, path, opt) // run 2: trusted time comes, 10 days on
	floor := l.TimeFloor()
	const by = 10 * 24 * time.Hour
	if n, err := l.ShiftState(floor, floor.Add(time.Minute), by, true); err != nil || n != 2 {
		t.Fatalf("ShiftState moved %d, %v; want a's pass and exit", n, err)
	}
	l.Close() // the power goes before an event at trusted time

	l = openLog(t, path, opt) // run 3: trusted time comes an hour later
	f3 := l.TimeFloor()
	if n, err := l.ShiftState(f3, f3.Add(time.Minute), time.Hour, true); err != nil || n != 0 {
		t.Errorf("run 3's shift moved %d, %v; want nothing: run 2 settled them", n, err)
	}
	if _, at, ok, err := l.LastSeen("", []byte("a")); err != nil || !ok || !at.Equal(a.Add(by)) {
		t.Errorf("pass a last seen %v %v %v, want %v", at, ok, err, a.Add(by))
	}
}
