//go:build !unix

package output

import "os/exec"

// ownGroup does nothing here: only the command itself is killed when its
// run is cancelled.
func ownGroup(*exec.Cmd) (killRest func()) { return func() {} }
