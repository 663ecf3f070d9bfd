package store

import (
	"bytes"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// editLog changes a closed log file by hand.
func editLog(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// The first schema-3 builds marked a migrated log with meta/unscoped = {1},
// without the latest stamp of its schema-2 state: that state is still
// looked up, bounded by the latest stamp in the expiry indexes.
func TestUnscopedMarkerWithoutStamp(t *testing.T) {
	path, opt := copyV2(t, 365*24*time.Hour)
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	// What migrateLog2to3 of those builds wrote.
	editLog(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyUnscoped, []byte{1}) })
	if l, err = OpenLog(path, opt); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	last := v2Event(v2Events)
	if _, _, ok, err := l.LastSeen("v2-other-issuer", last.PassID); err != nil || !ok {
		t.Errorf("schema-2 passage of %s (%v, within the horizon) not found: ok %v err %v", last.PassID, last.WallTime(), ok, err)
	}
	if n, _ := l.HouseholdExits("v2-other-issuer", v2Event(1).Household, v2Base); n == 0 {
		t.Errorf("schema-2 exits of the household not counted")
	}
}

// A schema-2 log can hold state that a shift moved above its floor (builds
// that did not raise the floor with the shift, when the commit after it
// failed or the power went), and a mark below older untrusted stamps. A
// shift that moves the older stamps past meta/unscoped moves that stamp
// with them: the lookups go on while the moved state is within the
// horizon.
func TestUnscopedStampFollowsAShiftBelowIt(t *testing.T) {
	path, opt := copyV2(t, 7*24*time.Hour)
	floor := v2Event(v2Events).Wall
	editLog(t, path, func(tx *bolt.Tx) error {
		// Event 30's passage moved 10 days up by an old shift; the floor
		// stayed. Earlier stamps are marked untrusted.
		exp, passes := tx.Bucket(bucketPassExp), tx.Bucket(bucketPasses)
		k, _ := exp.Cursor().Last()
		k = bytes.Clone(k)
		if getI64(k) != floor {
			t.Fatalf("last pass stamp %v", time.Unix(0, getI64(k)))
		}
		h := k[8:]
		v := bytes.Clone(passes.Get(h))
		moved := floor + int64(10*24*time.Hour)
		if err := exp.Delete(k); err != nil {
			return err
		}
		if err := exp.Put(append(i64(moved), h...), nil); err != nil {
			return err
		}
		if err := passes.Put(h, append(v[:1:1], i64(moved)...)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyUntrusted, i64(v2Base.UnixNano()))
	})
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Trusted time: the floor was 20 days behind.
	from := time.Unix(0, floor).UTC()
	if _, err := l.ShiftState(from, from.Add(time.Minute), 20*24*time.Hour, true); err != nil {
		t.Fatal(err)
	}
	ev := v2Event(29) // pass v2-pass-05, allowed, last passage at 29 min, now 20 days later
	dir, at, ok, err := l.LastSeen("v2-other-issuer", ev.PassID)
	if err != nil || !ok {
		t.Errorf("moved schema-2 passage (want %v at %v, floor %v, meta/unscoped %v) not found: in sight %v",
			ev.Direction, ev.WallTime().Add(20*24*time.Hour), l.TimeFloor(), time.Unix(0, l.unscoped.Load()).UTC(), l.unscopedInSight())
	} else if !at.Equal(ev.WallTime().Add(20*24*time.Hour)) || dir != ev.Direction {
		t.Errorf("got %v %v", dir, at)
	}
}
