package store

import (
	"path/filepath"
	"testing"
)

// A write of the sidecar from a stale copy (an open refused with
// ErrLocked, a writer that read the file before another wrote it) never
// lowers what only rises below what the file holds: the generation, the
// sequence high-water mark, the time floor and the recovery count
// (docs/store.md, "Sequences are never reused").
func TestSidecarWriteNeverLowersWhatRises(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db.sidecar")
	high := sidecar{hwm: 5000, floor: 1_700_000_000_000_000_000, recoveries: 3, attempts: 1}
	if err := writeSidecar(path, &high); err != nil {
		t.Fatal(err)
	}
	// Each field on its own: a stale copy lower in that one only.
	for _, tc := range []struct {
		name  string
		stale sidecar
	}{
		{"high-water mark", sidecar{hwm: 1, floor: high.floor, recoveries: high.recoveries}},
		{"time floor", sidecar{hwm: high.hwm, floor: 1, recoveries: high.recoveries}},
		{"recoveries", sidecar{hwm: high.hwm, floor: high.floor, recoveries: 0}},
		{"all of them", sidecar{}},
	} {
		before, _, err := readSidecar(path)
		if err != nil {
			t.Fatal(err)
		}
		s := tc.stale
		if err := writeSidecar(path, &s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, found, err := readSidecar(path)
		if err != nil || !found {
			t.Fatalf("%s: read back: %v, found %v", tc.name, err, found)
		}
		if got.gen <= before.gen || got.hwm < high.hwm || got.floor < high.floor || got.recoveries < high.recoveries {
			t.Errorf("%s: a stale write left %+v; the file held %+v", tc.name, got, before)
		}
		if got != s {
			t.Errorf("%s: writeSidecar reports %+v, the file holds %+v", tc.name, s, got)
		}
	}
}
