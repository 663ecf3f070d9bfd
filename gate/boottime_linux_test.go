package gate

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The clock a floor runs on is the boot clock: it counts what the process's
// monotonic clock counts, and the time the device was suspended too (which
// a test cannot do: it checks the clock is CLOCK_BOOTTIME, and runs).
func TestBootClock(t *testing.T) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Skip(err)
	}
	before, start := bootClock(), time.Now()
	time.Sleep(20 * time.Millisecond)
	took, passed := bootClock()-before, time.Since(start)
	if took < 20*time.Millisecond || took > passed+time.Second {
		t.Errorf("the boot clock moved %v over a sleep of %v", took, passed)
	}
	if d := bootClock() - time.Duration(ts.Nano()); d < 0 || d > time.Minute {
		t.Errorf("bootClock is %v off CLOCK_BOOTTIME", d)
	}
}
