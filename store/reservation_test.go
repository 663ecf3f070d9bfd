package store

import (
	"os"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// The sidecar reserves a block of sequences before any of them commits
// (docs/store.md, "Sequences are never reused"): when the reservation
// cannot be written, the append that needs it fails and commits nothing,
// so no committed sequence ever lies past the sidecar's high-water mark.
func TestReservationBeforeCommit(t *testing.T) {
	path := t.TempDir() + "/events.db"
	l, _ := newTestLog(t, path, LogOptions{})
	defer l.Close()
	ev := func(i int) *scanner.Event {
		return &scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Second).UnixNano(), Allow: true, PassID: []byte{byte(i)}}
	}
	if _, err := l.Append(ev(0)); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock() // the floor keeper writes the sidecar copy too
	hwm := l.side.hwm
	l.mu.Unlock()
	// Move the counter to the last reserved sequence (as a hub that
	// holds more than this log does): the append after it needs a block.
	if err := l.Ack(hwm - 1); err != nil {
		t.Fatal(err)
	}
	if seq, err := l.Append(ev(1)); err != nil || seq != hwm {
		t.Fatalf("append = %d, %v; want %d", seq, err, hwm)
	}
	// The sidecar cannot be written (a directory in its place).
	side := sidecarPath(path)
	if err := os.Remove(side); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(side, 0o700); err != nil {
		t.Fatal(err)
	}
	seq, err := l.Append(ev(2))
	if err == nil {
		t.Fatalf("append past the reservation succeeded (sequence %d) with no sidecar to reserve in", seq)
	}
	p, perr := l.Pending(0, 10)
	if perr != nil {
		t.Fatal(perr)
	}
	for _, s := range p {
		if s.Seq > hwm {
			t.Errorf("event %d committed past the reserved block (through %d) though its reservation failed", s.Seq, hwm)
		}
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.NextSeq != hwm+1 {
		t.Errorf("next sequence %d after the failed append, want %d", st.NextSeq, hwm+1)
	}
	// Once the sidecar can be written again, the append goes through.
	if err := os.Remove(side); err != nil {
		t.Fatal(err)
	}
	if seq, err := l.Append(ev(3)); err != nil || seq != hwm+1 {
		t.Fatalf("append after the sidecar came back = %d, %v; want %d", seq, err, hwm+1)
	}
	got, _, err := readSidecar(side)
	if err != nil || got.hwm < hwm+1 {
		t.Errorf("sidecar after the append: %+v, %v; want a block past %d", got, err, hwm)
	}
}
