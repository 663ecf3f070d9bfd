package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// Salvage carries the events after the damaged log's acknowledgement, not
// the acknowledged ones (docs/store.md, "Salvage", "What is carried"):
// with a retention, the acknowledged events are still in the damaged
// file's tree, and none of them, not even the last acknowledged, comes
// back pending.
func TestSalvageLeavesAcknowledgedEventsBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	l, priv := newTestLog(t, path, LogOptions{Retention: 24 * time.Hour})
	const n, acked = 300, 100
	for i := range n {
		ev := &scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Second).UnixNano(), Allow: true, PassID: []byte{byte(i)}}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Ack(acked); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Stats(); err != nil || st.Retained != acked {
		t.Fatalf("before the damage: %+v, %v; want %d retained", st, err, acked)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	markUnfinished(t, path) // the file is intact, and taken for damaged

	l = openRecovered(t, path, priv)
	got := openedEvents(t, l, priv)
	for seq := range got {
		if seq <= acked {
			t.Errorf("acknowledged event %d carried over as pending", seq)
		}
	}
	if len(got) != n-acked {
		t.Errorf("%d events pending after the carry, want %d", len(got), n-acked)
	}
	if st, err := l.Stats(); err != nil || st.Pending != n-acked {
		t.Errorf("stats after the carry: %+v, %v; want %d pending", st, err, n-acked)
	}
}
