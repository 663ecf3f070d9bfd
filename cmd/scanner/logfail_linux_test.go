package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A read the rules allow that the daemon cannot log is denied with reason
// log_failed when the config says nothing (on_log_failure = "deny" is the
// default), and let through unlogged with on_log_failure = "open". Once
// the daemon answers, its file size limit (RLIMIT_FSIZE) is set to 64
// KiB: its log file, larger, takes no page written past that (EFBIG), so
// within a few reads it cannot commit.
func TestRunLogFailure(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		allow       bool
		reason      string
	}{
		{"default", "", false, "log_failed"},
		{"open", "on_log_failure = \"open\"", true, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, key, dataDir := stdinConfig(t, tc.extra)
			d := startDaemon(t, cfg)
			d.ready(cfg)
			const limit = 64 << 10
			if fi, err := os.Stat(filepath.Join(dataDir, logFile)); err != nil || fi.Size() <= limit {
				t.Fatalf("log file: %v, %v; want one over %d bytes", fi, err, limit)
			}
			if err := unix.Prlimit(d.cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil {
				t.Skipf("cannot limit the daemon's file size: %v", err)
			}
			logged, unlogged := 0, 0
			for i := 0; i < 500 && unlogged < 3; i++ {
				r := runMain(t, time.Now(), "issue", "-key", key, "-holder", fmt.Sprintf("H.%d", i))
				if r.code != 0 {
					t.Fatal(r.stderr)
				}
				fmt.Fprintln(d.stdin, strings.TrimSpace(r.stdout))
				v := d.next()
				if v["logged"] == true {
					if v["allow"] != true || v["reason"] != "ok" {
						t.Fatalf("read %d, logged: %v; want allowed", i, v)
					}
					logged++
					continue
				}
				unlogged++
				if v["allow"] != tc.allow || v["reason"] != tc.reason {
					t.Fatalf("read %d, not logged: allow %v, reason %v; want allow %v, reason %s", i, v["allow"], v["reason"], tc.allow, tc.reason)
				}
			}
			if unlogged == 0 {
				t.Fatalf("the log never refused an event past %d bytes\n%s", limit, d.stderr.String())
			}
			t.Logf("%d reads logged, then %d not", logged, unlogged)
		})
	}
}
