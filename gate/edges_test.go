package gate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/scanner"
)

// The household quota is "at most N allowed exits in any window": an exit
// made exactly one window ago is still inside it (the store counts exits
// made at or after the window's start).
func TestQuotaWindowIncludesItsStart(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // one household
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(48 * time.Hour)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	// A nanosecond later a's exit is out of the window: another member
	// of the household goes out.
	r.advance(time.Nanosecond)
	r.expect(r.read(exit, r.issue("c")), true, scanner.ReasonOK)
}

// State is kept for the state horizon (7 days here, the longest window):
// a commit exactly one horizon after an exit does not drop it, so a quota
// of a window that long still counts it at that moment.
func TestStateKeptForTheWholeHorizon(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.QuotaCount, p.Exit.QuotaWindow = 1, 7*24*time.Hour })
	r.expect(r.read(exit, r.issue("a")), true, scanner.ReasonOK)
	r.advance(7 * 24 * time.Hour)
	// Another household's exit commits first, at the same moment: its
	// commit expires the state that is older than the horizon.
	r.expect(r.read(exit, r.issue("x", inHouse("house-2"))), true, scanner.ReasonOK)
	r.expect(r.read(exit, r.issue("b")), false, scanner.ReasonQuota)
}

// failingMemory is gate state that cannot be read.
type failingMemory struct{}

var errUnreadable = errors.New("state unreadable")

func (failingMemory) LastSeen(string, []byte) (scanner.Direction, time.Time, bool, error) {
	return 0, time.Time{}, false, errUnreadable
}

func (failingMemory) HouseholdExits(string, []byte, time.Time) (int, error) {
	return 0, errUnreadable
}

// Gate state that cannot be read is answered conservatively
// (scanner.Local): the pass is taken as just seen this way, the household
// as over its quota. The rules only bite where the policy turns them on.
func TestUnreadableStateIsConservative(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) {
		quotaOne(p)
		p.Entry.AntiPassback = scanner.PassbackHard
	})
	r.g.Memory = failingMemory{}
	r.expect(r.read(entry, r.issue("a")), false, scanner.ReasonAntiPassback)
	r.expect(r.read(exit, r.issue("b")), false, scanner.ReasonQuota)

	// Without those rules, the same unreadable state lets people through.
	r = newRig(t, nil)
	r.g.Memory = failingMemory{}
	r.expect(r.read(entry, r.issue("a")), true, scanner.ReasonOK)
	r.expect(r.read(exit, r.issue("b")), true, scanner.ReasonOK)
}

// The first trusted time of a boot moves the state stamped before it with
// the lagging floor by however little it is ahead (the one-minute
// threshold is for later readings only): a household that went out under
// the untrusted clock has used its quota for the full window from when it
// really went out.
func TestFirstTrustedTimeMovesStateBySmallJumps(t *testing.T) {
	r := newRig(t, quotaOne)
	synced := false
	r.g.Clock.Synced = func() bool { return synced }
	a, b := r.issue("a"), r.issue("b") // one household
	r.advance(time.Second)
	o := r.read(exit, a) // stamped t0+1s, untrusted (clock_unknown: flag)
	r.expect(o, true, scanner.ReasonOK)
	if o.At.Trusted {
		t.Fatalf("decided at trusted time: %+v", o.At)
	}
	// NTP synchronises: the true time is 50 s ahead of the floor.
	r.step(50 * time.Second)
	synced = true
	r.g.TakeJumps()
	if m := r.g.Clock.Now(); !m.Trusted {
		t.Fatalf("clock not trusted: %+v", m)
	}
	// a really went out at t0+51s: 20 s short of the window, b is still
	// held by the quota.
	r.advance(48*time.Hour - 20*time.Second)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
}

// A trusted time below the floor is ignored (Clock.SetTrusted): the floor
// never comes back down, so a pass expired by it stays expired.
func TestSetTrustedBelowTheFloorIgnored(t *testing.T) {
	floor := t0.Add(365 * 24 * time.Hour)
	c := gate.NewClock(floor)
	c.Monotonic = func() time.Duration { return time.Minute }
	c.Synced = func() bool { return false }
	c.SetTrusted(floor.Add(-365 * 24 * time.Hour)) // a year back
	if m := c.Now(); m.Wall.Before(floor) {
		t.Errorf("after a trusted time a year below the floor: %+v, below the floor %v", m, floor)
	}
	// One above it is taken.
	c.SetTrusted(floor.Add(time.Hour))
	if m := c.Now(); !m.Trusted || m.Wall.Before(floor.Add(time.Hour)) {
		t.Errorf("after a trusted time above the floor: %+v", m)
	}
}
