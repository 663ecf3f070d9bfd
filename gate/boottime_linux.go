package gate

import (
	"time"

	"golang.org/x/sys/unix"
)

// processStart anchors bootClock's fallback.
var processStart = time.Now()

// bootClock reads CLOCK_BOOTTIME: it never steps, and unlike Go's
// monotonic clock (CLOCK_MONOTONIC) it counts the time the device was
// suspended, so a floor advanced by it stays the time that really passed.
func bootClock() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Since(processStart) // a kernel before 2.6.39
	}
	return time.Duration(ts.Nano())
}
