//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// folderLockWait bounds how long lockFolder waits for another process's
// lock: one stopped while holding it (Ctrl-Z at the wrong moment) must
// not stop the gate's appends.
const folderLockWait = 2 * time.Second

// lockFolder takes an exclusive advisory lock (flock) on the folder dir,
// waiting at most folderLockWait for it, and returns the function that
// releases it. Processes that write the same sidecar take it first, so
// that one's read, merge and write of a slot is not interleaved with
// another's. When the wait runs out it returns without the lock (held
// false): the write goes on, merging as before, rather than wait on a
// process that may never let go.
func lockFolder(dir string) (unlock func(), held bool, err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	deadline := time.Now().Add(folderLockWait)
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// Closing the descriptor releases the lock.
			return func() { d.Close() }, true, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			d.Close()
			return nil, false, &os.PathError{Op: "flock", Path: dir, Err: err}
		}
		if time.Now().After(deadline) {
			d.Close()
			return func() {}, false, nil
		}
		time.Sleep(time.Millisecond)
	}
}

// fileHeld reports whether another open of the file at path holds a flock
// on it: bbolt takes one for as long as a process has the file open.
func fileHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
