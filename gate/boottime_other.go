//go:build !linux

package gate

import "time"

// processStart anchors bootClock.
var processStart = time.Now()

// bootClock reads the process's monotonic clock.
func bootClock() time.Duration { return time.Since(processStart) }
