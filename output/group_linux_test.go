package output

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// What an exec hook starts dies with its call: a helper hung on a dead
// host when the call times out, and one left in the background by a call
// that returned. A call whose command returned is not held up by its
// helper.
func TestExecHookLeavesNoProcesses(t *testing.T) {
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	helper := filepath.Join(dir, "helper.sh")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\necho $$ >> "+pids+"\nwhile :; do sleep 1; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var started []int
	t.Cleanup(func() {
		for _, pid := range started {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for _, tc := range []struct {
		name   string
		script string
		sent   int64 // calls that must succeed: the others time out
	}{
		{"timed out", "cat >/dev/null; " + helper + "; echo sent", 0},
		{"returned", "cat >/dev/null; n=$(cat " + pids + " 2>/dev/null | wc -l); " + helper +
			" & while [ $(cat " + pids + " 2>/dev/null | wc -l) -le $n ]; do sleep 0.01; done; echo sent", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(pids)
			// Long enough for sh to start its helper before the timeout,
			// under emulation on a loaded machine too.
			timeout := 300 * time.Millisecond
			if os.Getenv("CHECKPOINT_QEMU") == "1" {
				timeout = 2 * time.Second
			}
			h, err := NewExecHook([]string{"sh", "-c", tc.script}, timeout, 8, nil)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				h.Act(context.Background(), outcome(true))
			}
			waitFor(t, func() bool { return h.Stats.Sent.Load()+h.Stats.Failed.Load() == 3 })
			h.Close()
			b, _ := os.ReadFile(pids)
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				started = append(started, pid)
				deadline := time.Now().Add(2 * time.Second)
				for alive(pid) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if alive(pid) {
					t.Errorf("helper %d outlived its call", pid)
				}
			}
			if n := len(strings.Fields(string(b))); n != 3 {
				t.Errorf("%d helpers started, want 3", n)
			}
			// A call whose command returned succeeds, though its helper
			// still held the output: the call did not wait for the
			// helper to let go of it (and fail when it did not).
			if sent, failed := h.Stats.Sent.Load(), h.Stats.Failed.Load(); sent != tc.sent || failed != 3-tc.sent {
				t.Errorf("%d calls sent, %d failed; want %d sent", sent, failed, tc.sent)
			}
		})
	}
}
