package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
	"golang.org/x/sys/unix"
)

const (
	envSyncChild = "CHECKPOINT_STORE_SYNC_CHILD"
	envSyncHub   = "CHECKPOINT_STORE_SYNC_HUB"
)

// TestAppendWaitsForFsync: an event counts as logged once it is on disk
// (fsync), not once it is in the page cache, which a power cut loses. A
// child process appends an event, then has the kernel fail every fsync
// and fdatasync with EIO (a seccomp filter) and appends another: that
// Append must fail, since it cannot know its event is on disk, and the
// event must not be in the log when it is reopened. Skipped only where the
// kernel has no seccomp filters.
func TestAppendWaitsForFsync(t *testing.T) {
	if path := os.Getenv(envSyncChild); path != "" {
		syncChild(path)
		return
	}
	if os.Getenv(envQEMU) == "1" {
		t.Skip("a seccomp filter under qemu-user filters the emulator's own system calls")
	}
	if _, ok := auditArch[runtime.GOARCH]; !ok {
		t.Skipf("no seccomp architecture known for %s", runtime.GOARCH)
	}
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := childCommand(t, "-test.run=^TestAppendWaitsForFsync$")
	cmd.Env = append(os.Environ(), envSyncChild+"="+path, envSyncHub+"="+priv.Public().String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	var result string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "result ") {
			result = strings.TrimPrefix(line, "result ")
		}
	}
	switch {
	case strings.HasPrefix(result, "no seccomp: "):
		t.Skip(result)
	case result == "":
		t.Fatalf("child reported nothing:\n%s", out.String())
	case result != "refused":
		t.Fatalf("with fsync failing: %s", result)
	}

	// Reopened, the log holds the first event only.
	l := openLog(t, path, store.LogOptions{Hub: priv.Public()})
	if l.Recovery() != nil {
		t.Fatalf("log damaged: %+v", l.Recovery())
	}
	checkIntact(t, l, hub, []uint64{1})
}

// auditArch is the seccomp architecture of each GOARCH the test knows.
var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64,
	"arm64": unix.AUDIT_ARCH_AARCH64,
	"arm":   unix.AUDIT_ARCH_ARM,
	"386":   unix.AUDIT_ARCH_I386,
}

// failSyncs makes every fsync and fdatasync of the process fail with EIO
// from now on, in every thread.
func failSyncs() error {
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
	)
	// struct seccomp_data: nr at 0, arch at 4.
	filter := []unix.SockFilter{
		{Code: ld, K: 4},
		{Code: jeq, K: auditArch[runtime.GOARCH], Jt: 0, Jf: 4},
		{Code: ld, K: 0},
		{Code: jeq, K: unix.SYS_FSYNC, Jt: 2, Jf: 0},
		{Code: jeq, K: unix.SYS_FDATASYNC, Jt: 1, Jf: 0},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ret, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EIO)},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	return nil
}

// syncChild is the child of TestAppendWaitsForFsync. Its last line is
// "result refused" when the Append with fsync failing failed with EIO.
func syncChild(path string) {
	result := func(format string, args ...any) {
		fmt.Printf("result "+format+"\n", args...)
		os.Exit(0)
	}
	hubKey, err := seal.ParsePublicKey(os.Getenv(envSyncHub))
	if err != nil {
		result("error %v", err)
	}
	l, err := store.OpenLog(path, store.LogOptions{Hub: hubKey, Logger: quiet})
	if err != nil {
		result("error %v", err)
	}
	ev := func() *scanner.Event {
		return &scanner.Event{Wall: time.Now().UnixNano(), Site: "sync", Allow: true, Reason: scanner.ReasonOK,
			PassID: []byte("pass-0123456789ab"), Household: []byte("house-1")}
	}
	// The first append reserves the sidecar's sequences: the next one
	// writes the log file alone.
	if seq, err := l.Append(ev()); err != nil || seq != 1 {
		result("error first append: %d, %v", seq, err)
	}
	if err := failSyncs(); err != nil {
		result("no seccomp: %v", err)
	}
	// Control: the filter is in place.
	f, err := os.CreateTemp(filepath.Dir(path), "probe")
	if err != nil {
		result("error %v", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		result("error the filter does not fail fsync: %v", err)
	}
	seq, err := l.Append(ev())
	switch {
	case err == nil:
		result("Append returned event %d as logged", seq)
	case !errors.Is(err, syscall.EIO):
		result("Append failed, but not for the failed fsync: %v", err)
	}
	result("refused")
}
