package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/internal/syncbuf"
)

// serviceUID is the user the daemon runs as in TestControlServiceUser.
const serviceUID = 65534

// A daemon run as a service user, its data folder its own: root's commands
// talk to it (the folder's owner serves the socket), and stop as soon as a
// folder above the socket becomes writable by others.
func TestControlServiceUser(t *testing.T) {
	skipWithoutControl(t)
	if os.Getuid() != 0 {
		t.Skip("needs root, to run the daemon as another user")
	}
	cfg, _, dataDir, _ := stdinConfigHub(t, "")
	dir := filepath.Dir(cfg)
	// The service user reaches its folder through folders root owns.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dataDir, serviceUID, serviceUID); err != nil {
		t.Fatal(err)
	}
	// A copy of this binary the service user may run (the build's own
	// folder is root's alone).
	exe := filepath.Join(dir, "scanner.test")
	copyFile(t, os.Args[0], exe)

	args := []string{"run", "-config", cfg}
	cmd := exec.Command(exe, args...)
	if q := os.Getenv("CHECKPOINT_QEMU_EXEC"); q != "" {
		cmd = exec.Command(q, append([]string{exe}, args...)...)
	}
	cmd.Env = append(os.Environ(), "CHECKPOINT_TEST_MAIN=1")
	d := &daemon{cmd: cmd, t: t, stderr: new(syncbuf.Buffer)}
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: serviceUID, Gid: serviceUID}}
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, d.stderr
	d.stdin, _ = d.cmd.StdinPipe()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })

	// Before, root's commands refused a daemon that was neither root nor
	// root's own, even in its private folder.
	d.ready(cfg)
	if r := runMain(t, time.Now(), "status", "-config", cfg); r.code != 0 || !strings.Contains(r.stdout, "main") {
		t.Fatalf("status from root: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A folder above the socket that others can write: someone could
	// have swapped the data folder for their own.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := askDaemon(filepath.Join(dataDir, controlFile), controlRequest{Op: "status"})
	if err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("asked through a folder others can write: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// The server refuses a socket folder under a folder others can write,
// unless that folder is sticky (as /tmp), and one under another user's
// folder.
func TestControlFolderAbove(t *testing.T) {
	skipWithoutControl(t)
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o755, true}, {0o777, false}, {0o775, false}, {0o777 | os.ModeSticky, true}} {
		above := filepath.Join(t.TempDir(), "above")
		if err := os.Mkdir(above, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(above, c.mode); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(above, "own", "c.sock")
		if err := os.Mkdir(filepath.Dir(sock), 0o700); err != nil {
			t.Fatal(err)
		}
		ln, err := listenControl(sock)
		if (err == nil) != c.ok {
			t.Errorf("folder above of mode %v: %v", c.mode, err)
		}
		if err == nil {
			ln.Close()
		}
		// The way through a link is checked too.
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(filepath.Dir(sock), link); err != nil {
			t.Fatal(err)
		}
		ln, err = listenControl(filepath.Join(link, "c.sock"))
		if (err == nil) != c.ok {
			t.Errorf("through a link, folder above of mode %v: %v", c.mode, err)
		}
		if err == nil {
			ln.Close()
		}
	}
	if os.Getuid() == 0 {
		theirs := filepath.Join(t.TempDir(), "theirs")
		own := filepath.Join(theirs, "own")
		if err := os.MkdirAll(own, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, serviceUID, serviceUID); err != nil {
			t.Fatal(err)
		}
		if ln, err := listenControl(filepath.Join(own, "c.sock")); err == nil {
			ln.Close()
			t.Error("listened below another user's folder")
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// Root's commands on a stopped gate that runs as a service user: they do
// not make files in its data folder (the gate could not open them) or the
// folder itself, and say how to run them instead; nor does root run the
// gate itself there.
func TestOfflineCommandsAsRootLeaveTheGatesFolderAlone(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	cfg, _, dataDir := stdinConfig(t, "")
	for _, args := range [][]string{{"emergency", "-config", cfg, "on"}, {"status", "-config", cfg}} {
		r := runMain(t, time.Now(), args...)
		if args[0] == "emergency" && (r.code == 0 || !strings.Contains(r.stderr, "never run")) {
			t.Errorf("emergency on, no data folder yet: exit %d, %q", r.code, r.stderr)
		}
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Fatal("root made the gate's data folder")
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dataDir, serviceUID, serviceUID); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"emergency", "-config", cfg, "on"}, {"status", "-config", cfg}, {"run", "-config", cfg}} {
		if r := runMain(t, time.Now(), args...); r.code == 0 || !strings.Contains(r.stderr, "sudo -u") {
			t.Errorf("%s as root in the service user's folder: exit %d, %q", args[0], r.code, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Errorf("root left %d files in the gate's data folder", len(entries))
	}
}
