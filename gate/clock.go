package gate

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// Clock turns the device's untrustworthy wall clock into scanner.Moments.
//
// The floor is the latest time known to have passed (the store's time
// floor: the last event, a hub-signed time, the build time). Within a boot
// the floor advances with the monotonic clock. The wall clock is trusted
// when Synced says the system clock is synchronised (for example by NTP)
// and it is not below the floor; each such reading raises the floor. After
// a trusted reading, or after SetTrusted gave a time from a trusted source
// (the hub's signed time), the floor itself is trusted: a clock that then
// steps back or loses its synchronisation gives the floor, advanced by the
// monotonic clock, as trusted time. Before any, decisions use the advanced
// floor, marked untrusted.
type Clock struct {
	// Wall reads the wall clock; nil means time.Now.
	Wall func() time.Time
	// Synced reports whether the system clock is synchronised; nil means
	// never (trust only SetTrusted).
	Synced func() bool
	// Monotonic reads a clock that only runs forward, never stepped, and
	// counts the time the device was suspended: the time since the Clock
	// was made. nil means the boot clock (CLOCK_BOOTTIME) on Linux, the
	// process's monotonic clock elsewhere. Set it, if at all, before the
	// Clock is used.
	Monotonic func() time.Duration

	mu      sync.Mutex
	floor   time.Time     // floor at base
	base    time.Duration // the monotonic time when floor was set
	trusted bool          // floor came from a trusted source this boot
	jumps   []Jump        // not yet taken
	bootID  [16]byte
	start   time.Duration // the boot clock when the Clock was made
}

// JumpThreshold is how far ahead of the running floor a trusted time must
// be, once the clock was trusted in a boot, to count as a jump: more than
// a clock drifts between two readings.
const JumpThreshold = time.Minute

// Jump is how far the clock's floor was behind when trusted time came, or
// a time known to have passed (RaiseFloor): the decisions made since From
// (exclusive: the floor last set, at boot, by a trusted reading or by
// RaiseFloor) were stamped with the floor advanced by the monotonic clock,
// up to To, and were By later than stamped.
type Jump struct {
	From, To time.Time
	By       time.Duration
	// Trusted: the jump is to trusted time (not a floor raised to a
	// build time), so the state it moves is then where it belongs.
	Trusted bool
}

// epoch is the floor of a clock given none (a log that holds no event):
// what a device without a real-time clock boots at.
var epoch = time.Unix(0, 0).UTC()

// NewClock returns a clock whose floor is floor, or the Unix epoch when
// floor is earlier (the zero Time: a log with no floor). Decision times
// are thus always Unix times in nanoseconds.
func NewClock(floor time.Time) *Clock {
	if floor.Before(epoch) {
		floor = epoch
	}
	c := &Clock{floor: floor, start: bootClock()}
	rand.Read(c.bootID[:])
	return c
}

func (c *Clock) wall() time.Time {
	if c.Wall != nil {
		return c.Wall()
	}
	return time.Now()
}

// Now returns the decision time.
func (c *Clock) Now() scanner.Moment {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

// NowAndJumps returns the decision time, and takes the jumps recorded
// until then (see Jump): the state the gate stamped in their spans is to
// be moved forward before it decides at this time. Taking both under one
// lock means no decision stamped in a span is committed after its jump
// was taken.
func (c *Clock) NowAndJumps() (scanner.Moment, []Jump) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.now()
	j := c.jumps
	c.jumps = nil
	return m, j
}

// advanced returns the floor advanced by the monotonic clock, and the
// monotonic time read; the caller holds c.mu.
func (c *Clock) advanced() (lower time.Time, mono time.Duration) {
	mono = c.Mono()
	return c.floor.Add(mono - c.base), mono
}

// now is Now; the caller holds c.mu.
func (c *Clock) now() scanner.Moment {
	lower, mono := c.advanced()
	w := c.wall().Round(0)
	if c.Synced != nil && c.Synced() && !w.Before(lower) {
		// A trusted reading raises the floor: a clock stepped back
		// later, or one that loses its synchronisation, is never used
		// below it, and the floor runs on from it, trusted.
		c.trustAt(w, lower, mono)
		return scanner.Moment{Wall: w, Trusted: true}
	}
	return scanner.Moment{Wall: lower, Trusted: c.trusted}
}

// SetTrusted records a time from a trusted source (the hub's signed time):
// from now on the clock runs from it by the monotonic clock, trusted. A
// trusted time below the floor is ignored: the floor only goes up.
func (c *Clock) SetTrusted(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lower, mono := c.advanced()
	if t.Before(lower) {
		return
	}
	c.trustAt(t, lower, mono)
}

// RaiseFloor raises the floor to t, a time known to have passed that is
// no reading of the present (the build time of the running program), when
// t is above the floor as advanced so far; the clock stays as trusted as
// it was. The decisions stamped below t happened before t: a Jump moves
// their state up. At start, with the log's floor as the clock's, that is
// the state an earlier run stamped under an untrusted clock (the log's
// ShiftState finds it below From), which a new build's time would
// otherwise leave far behind this run's time, to expire.
func (c *Clock) RaiseFloor(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lower, mono := c.advanced()
	if t.After(lower) {
		c.raise(t, lower, mono, true, false)
	}
}

// trustAt makes trusted time t, read at monotonic time mono when the floor
// had advanced to lower, the floor. It records a jump when t is ahead of
// lower: any amount the first time in a boot, more than JumpThreshold
// after (a floor that lagged). The caller holds c.mu.
func (c *Clock) trustAt(t, lower time.Time, mono time.Duration) {
	by := t.Sub(lower)
	c.raise(t, lower, mono, by > 0 && (!c.trusted || by > JumpThreshold), true)
	c.trusted = true
}

// raise makes t, read at monotonic time mono when the floor had advanced
// to lower, the floor, recording the jump from lower when jump is set (to
// trusted time when trusted is). The caller holds c.mu.
func (c *Clock) raise(t, lower time.Time, mono time.Duration, jump, trusted bool) {
	if jump {
		c.jumps = append(c.jumps, Jump{From: c.floor, To: lower, By: t.Sub(lower), Trusted: trusted})
	}
	c.floor, c.base = t, mono
}

// Mono returns the monotonic time since the clock was made.
func (c *Clock) Mono() time.Duration {
	if c.Monotonic != nil {
		return c.Monotonic()
	}
	return bootClock() - c.start
}

// BootID returns the random ID of this boot (of this clock).
func (c *Clock) BootID() [16]byte { return c.bootID }
