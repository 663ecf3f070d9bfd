package main

import "golang.org/x/sys/unix"

// systemClockSynced reports whether the kernel says the system clock is
// synchronised (by NTP or a similar daemon): adjtimex's STA_UNSYNC is clear.
func systemClockSynced() bool {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	return err == nil && state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
}
