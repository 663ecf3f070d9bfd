package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// Gate state is dropped when it is older than StateHorizon behind the time
// floor (docs/store.md, "Options", "Gate state"), not when it is exactly
// that old: a passage stamped at the floor minus the horizon still counts,
// for LastSeen and HouseholdExits, after RaiseTimeFloor expired what
// fell behind; one stamped a nanosecond earlier does not.
func TestStateAtTheHorizonKept(t *testing.T) {
	priv, _ := testHub(t)
	const horizon = time.Hour
	l := openLog(t, filepath.Join(t.TempDir(), "events.db"), store.LogOptions{Hub: priv.Public(), StateHorizon: horizon})
	store.NoSyncForTest(l, true)
	at := t0
	for _, ev := range []*scanner.Event{
		{Wall: at.Add(-time.Nanosecond).UnixNano(), Issuer: "d", Direction: scanner.Exit, Allow: true, PassID: []byte("early"), Household: []byte("h-early")},
		{Wall: at.UnixNano(), Issuer: "d", Direction: scanner.Exit, Allow: true, PassID: []byte("edge"), Household: []byte("h-edge")},
	} {
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	// The floor a horizon past the second: it is exactly as old as the
	// horizon, the first a nanosecond older.
	if err := l.RaiseTimeFloor(at.Add(horizon)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pass, household string
		want            bool
	}{{"edge", "h-edge", true}, {"early", "h-early", false}} {
		dir, seen, ok, err := l.LastSeen("d", []byte(tc.pass))
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.want || ok && (dir != scanner.Exit || !seen.Equal(at)) {
			t.Errorf("LastSeen(%s) = %v, %v, %v; want ok=%v", tc.pass, dir, seen, ok, tc.want)
		}
		n, err := l.HouseholdExits("d", []byte(tc.household), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[tc.want]; n != want {
			t.Errorf("HouseholdExits(%s) = %d, want %d", tc.household, n, want)
		}
	}
}
