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
	pass := func(id string, at time.Time, dir scanner.Direction) {
		t.Helper()
		ev := &scanner.Event{Wall: at.UnixNano(), Site: "s", Direction: dir, Allow: true, PassID: []byte(id), Household: []byte("house-" + id)}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	before, in1, in2 := t0, t0.Add(time.Minute), t0.Add(2*time.Minute)
	pass("old", before, scanner.Exit) // the last passage of an earlier boot, at the floor
	pass("a", in1, scanner.Exit)
	pass("b", in2, scanner.Entry)
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
