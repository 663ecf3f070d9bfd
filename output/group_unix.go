//go:build unix

package output

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd, when started, the leader of a process group of its
// own, has a cancelled run kill the whole group, and returns a function
// that kills what is left of the group once the run is over.
func ownGroup(cmd *exec.Cmd) (killRest func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return func() {
		if cmd.Process != nil {
			// The group outlives its leader while a member lives, and
			// its ID is not reused until then; ESRCH means none is left.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}
