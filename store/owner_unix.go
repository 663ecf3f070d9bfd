//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// checkFolderOwner refuses, when this process is root, a folder that
// another user owns (ErrForeignFolder).
func checkFolderOwner(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil // the open that follows says what is wrong
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		return fmt.Errorf("%w: %s belongs to user %d, and this runs as root: run it as that user", ErrForeignFolder, dir, st.Uid)
	}
	return nil
}
