//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFolder takes an exclusive advisory lock (flock) on the folder dir,
// waiting for it, and returns the function that releases it. Processes
// that write the same sidecar take it first, so that one's read, merge
// and write of a slot is not interleaved with another's.
func lockFolder(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		d.Close()
		return nil, &os.PathError{Op: "flock", Path: dir, Err: err}
	}
	// Closing the descriptor releases the lock.
	return func() { d.Close() }, nil
}
