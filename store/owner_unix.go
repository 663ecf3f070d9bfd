//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
)

// takeFolderOwner gives a file this process created, before it is renamed
// into place, the owner of its folder, when this process is root and the
// folder is another user's: root running a command on a gate's data
// folder (a status, an emergency switch with the daemon stopped) must not
// leave files the gate's own user cannot open.
func takeFolderOwner(f *os.File) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Dir(f.Name()))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
