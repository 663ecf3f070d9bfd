package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

func TestLogStats(t *testing.T) {
	priv, _ := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	now := t0.Add(-time.Hour) // the device clock is behind the events
	l := openLog(t, path, store.LogOptions{Hub: priv.Public(), SegmentSize: 10, Now: func() time.Time { return now }})

	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.NextSeq != 1 || st.Pending != 0 || !st.OldestPending.IsZero() || !st.LastCheck.OK ||
		st.LastCheck.At.IsZero() || st.Schema != store.LogSchema || st.FileSize == 0 || st.Path != path ||
		st.MaxSize != store.DefaultLogMaxSize || st.Recovery != nil || st.Recoveries != 0 {
		t.Fatalf("new log: %+v", st)
	}
	for i := range 25 {
		ev := &scanner.Event{
			Wall:      t0.Add(time.Duration(i) * time.Minute).UnixNano(),
			Direction: scanner.Direction(i % 2),
			Allow:     i != 3,
			PassID:    []byte{byte(i % 5)},
			Household: []byte{byte(i % 3)},
		}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Ack(5); err != nil {
		t.Fatal(err)
	}
	st, err = l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// Exits allowed: odd i except 3 → 11 of them.
	if st.NextSeq != 26 || st.AckedThrough != 5 || st.Pending != 20 || st.Retained != 0 ||
		!st.OldestPending.Equal(t0.Add(5*time.Minute)) || st.Passes != 5 || st.HouseholdExits != 11 ||
		!st.TimeFloor.Equal(t0.Add(24*time.Minute)) || st.Segments != 3 {
		t.Fatalf("after 25 events and an ack: %+v", st)
	}
	// The check time after a reopen is held at the time floor.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, path, store.LogOptions{Hub: priv.Public(), Now: func() time.Time { return now }})
	if st, _ := l.Stats(); st.LastCheck.At.Before(t0.Add(24 * time.Minute)) {
		t.Fatalf("check time %v below the time floor", st.LastCheck.At)
	}
}

func TestRetention(t *testing.T) {
	priv, hub := testHub(t)
	now := t0
	l := openLog(t, filepath.Join(t.TempDir(), "events.db"), store.LogOptions{
		Hub: priv.Public(), Retention: time.Hour, Now: func() time.Time { return now },
	})
	ev := func(at time.Duration) *scanner.Event {
		return &scanner.Event{Wall: t0.Add(at).UnixNano(), Allow: true, PassID: []byte("p")}
	}
	for i := range 10 {
		if _, err := l.Append(ev(time.Duration(i) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Ack(6); err != nil {
		t.Fatal(err)
	}
	st, _ := l.Stats()
	if st.Retained != 6 || st.Pending != 4 {
		t.Fatalf("after Ack(6) with retention: retained %d, pending %d", st.Retained, st.Pending)
	}
	if p, _ := l.Pending(0, 100); len(p) != 4 || p[0].Seq != 7 {
		t.Fatalf("Pending returned acknowledged events: %d from %d", len(p), p[0].Seq)
	}
	// Within the retention, appends keep them.
	if _, err := l.Append(ev(30 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Stats(); st.Retained != 6 {
		t.Fatalf("retained %d within the retention", st.Retained)
	}
	// Past it, an append drops them.
	now = t0.Add(2 * time.Hour)
	if _, err := l.Append(ev(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, _ = l.Stats()
	if st.Retained != 0 || st.Pending != 6 {
		t.Fatalf("after the retention: retained %d, pending %d", st.Retained, st.Pending)
	}
	p, err := l.Pending(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p {
		if _, err := hub.Open(s.Header, s.Seq, s.Box); err != nil {
			t.Fatalf("event %d: %v", s.Seq, err)
		}
	}
}
