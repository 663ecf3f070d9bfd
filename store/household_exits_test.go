package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// HouseholdExits counts the household's allowed exits, leaving out those
// that emergency mode alone let through (reason emergency), and denied
// ones; a gatekeeper's override that lets a holder out counts, even in
// emergency mode (docs/store.md, "Gate state"; docs/gate.md, "Manual
// override").
func TestHouseholdExitsLeaveOutEmergencyExits(t *testing.T) {
	priv, _ := testHub(t)
	l := openLog(t, filepath.Join(t.TempDir(), "events.db"), store.LogOptions{Hub: priv.Public()})
	store.NoSyncForTest(l, true)
	hh := []byte("household-42")
	exits := []struct {
		allow  bool
		reason scanner.Reason
		counts bool
	}{
		{true, scanner.ReasonEmergency, false}, // an evacuation
		{false, scanner.ReasonQuota, false},    // kept back
		{true, scanner.ReasonEmergency, false}, // another
		{true, scanner.ReasonOK, true},         // an exit the rules allowed
		{true, scanner.ReasonOverride, true},   // the gatekeeper let one out
		{true, scanner.ReasonEmergency, false}, // and one more evacuation
	}
	want := 0
	for i, x := range exits {
		ev := &scanner.Event{
			Wall: t0.Add(time.Duration(i) * time.Minute).UnixNano(), WallTrusted: true,
			Issuer: "district", Direction: scanner.Exit, Allow: x.allow, Reason: x.reason,
			PassID: []byte{'p', byte(i)}, Household: hh,
		}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
		if x.counts {
			want++
		}
		n, err := l.HouseholdExits("district", hh, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("after exit %d (allow %v, %s): %d exits counted, want %d", i, x.allow, x.reason, n, want)
		}
	}
}
