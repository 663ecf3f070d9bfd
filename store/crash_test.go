package store_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

var (
	crashCycles = flag.Int("crashcycles", 0, "SIGKILL crash-loop cycles (0: 200, or 20 under CHECKPOINT_QEMU=1 or -short)")
	crashTime   = flag.Duration("crashtime", 0, "stop the crash loop after this long (0: 90s, or no limit when -crashcycles is set)")
)

// childCommand re-executes the test binary with args. Under qemu-user
// without binfmt_misc, the child runs under the emulator named by
// CHECKPOINT_QEMU_EXEC (as scripts/test.sh sets it) or CHECKPOINT_EXEC
// (for example qemu-arm-static).
func childCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"CHECKPOINT_QEMU_EXEC", "CHECKPOINT_EXEC"} {
		if launcher := os.Getenv(env); launcher != "" {
			return exec.Command(launcher, append([]string{exe}, args...)...)
		}
	}
	return exec.Command(exe, args...)
}

const (
	envCrashChild = "CHECKPOINT_STORE_CRASH_CHILD"
	envCrashHub   = "CHECKPOINT_STORE_CRASH_HUB"
	envQEMU       = "CHECKPOINT_QEMU"
)

// TestCrashLoop runs a child process that appends events (and now and then
// acknowledges some and raises the time floor), printing each sequence once
// Append returned; it kills the child with SIGKILL at random moments,
// sometimes while it is still opening the log, reopens the log, and checks
// that every printed sequence is there, that the pending sequences are
// contiguous, that the integrity check passes, and that the hub opens
// every pending event.
func TestCrashLoop(t *testing.T) {
	if path := os.Getenv(envCrashChild); path != "" {
		crashChild(path)
		return
	}
	cycles, limit := *crashCycles, *crashTime
	qemu := os.Getenv(envQEMU) == "1"
	slow := time.Duration(1) // emulated children run slower: wait longer before killing
	if qemu {
		slow = 20
	}
	if cycles == 0 {
		cycles = 200
		if qemu || testing.Short() {
			cycles = 20
		}
		if limit == 0 {
			limit = 90 * time.Second
		}
	}
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	var (
		start       = time.Now()
		prevNext    uint64
		printed     int
		maxPrinted  uint64
		killedEarly int
	)
	for cycle := 0; cycle < cycles; cycle++ {
		if limit > 0 && time.Since(start) > limit {
			t.Logf("stopping after %d cycles: the time limit %v passed", cycle, limit)
			break
		}
		cmd := childCommand(t, "-test.run=^TestCrashLoop$")
		cmd.Env = append(os.Environ(), envCrashChild+"="+path, envCrashHub+"="+priv.Public().String())
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) {
				t.Skipf("cannot re-execute the test binary: %v", err)
			}
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var got []string
		early := rng.IntN(4) == 0
		if early {
			// Kill while the child may still be starting or opening.
			time.Sleep(slow * time.Duration(rng.IntN(15000)) * time.Microsecond)
			killedEarly++
		} else {
			// Wait until the child appends, then kill within 0-30 ms.
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						break wait
					}
					got = append(got, l)
					if l == "ready" {
						break wait
					}
				case <-time.After(20 * time.Second):
					t.Fatal("child did not open the log within 20s")
				}
			}
			time.Sleep(slow * time.Duration(rng.IntN(30000)) * time.Microsecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for l := range lines {
			got = append(got, l)
		}
		_ = cmd.Wait()

		var seqs []uint64
		var lastAck uint64
		for _, l := range got {
			switch {
			case strings.HasPrefix(l, "seq "):
				n, _ := strconv.ParseUint(l[4:], 10, 64)
				seqs = append(seqs, n)
			case strings.HasPrefix(l, "ack "):
				n, _ := strconv.ParseUint(l[4:], 10, 64)
				lastAck = max(lastAck, n)
			case strings.HasPrefix(l, "error "):
				t.Fatalf("cycle %d: child: %s", cycle, l)
			}
		}
		printed += len(seqs)
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Fatalf("cycle %d: child printed %d after %d", cycle, seqs[i], seqs[i-1])
			}
		}
		if len(seqs) > 0 && seqs[0] <= maxPrinted {
			t.Fatalf("cycle %d: sequence %d reused (already printed up to %d)", cycle, seqs[0], maxPrinted)
		}
		if len(seqs) > 0 {
			maxPrinted = seqs[len(seqs)-1]
		}

		// Reopen, which runs the integrity check, and check everything.
		l, err := store.OpenLog(path, store.LogOptions{Hub: priv.Public(), Logger: quiet})
		if err != nil {
			t.Fatalf("cycle %d: reopen: %v", cycle, err)
		}
		st, err := l.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if l.Recovery() != nil || !st.LastCheck.OK || st.Recoveries != 0 {
			t.Fatalf("cycle %d: log damaged after SIGKILL: check %+v, recovery %+v", cycle, st.LastCheck, l.Recovery())
		}
		if st.AckedThrough < lastAck {
			t.Fatalf("cycle %d: acknowledged through %d, but the child's Ack(%d) returned", cycle, st.AckedThrough, lastAck)
		}
		if st.NextSeq < prevNext || (len(seqs) > 0 && st.NextSeq <= maxPrinted) {
			t.Fatalf("cycle %d: next sequence %d went back (before %d, printed up to %d)", cycle, st.NextSeq, prevNext, maxPrinted)
		}
		prevNext = st.NextSeq
		pend, err := l.Pending(0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		have := map[uint64]bool{}
		for i, s := range pend {
			have[s.Seq] = true
			want := st.AckedThrough + 1 + uint64(i)
			if s.Seq != want {
				t.Fatalf("cycle %d: pending[%d] is %d, want %d (not contiguous)", cycle, i, s.Seq, want)
			}
			msg, err := hub.Open(s.Header, s.Seq, s.Box)
			if err != nil {
				t.Fatalf("cycle %d: hub cannot open event %d: %v", cycle, s.Seq, err)
			}
			var ev scanner.Event
			if err := ev.UnmarshalBinary(msg); err != nil || ev.Seq != s.Seq {
				t.Fatalf("cycle %d: event %d opens to seq %d, %v", cycle, s.Seq, ev.Seq, err)
			}
		}
		if uint64(len(pend)) != st.Pending || (len(pend) > 0 && pend[len(pend)-1].Seq != st.NextSeq-1) {
			t.Fatalf("cycle %d: %d pending up to %v, stats say %d pending, next %d", cycle, len(pend), firstLast(pend), st.Pending, st.NextSeq)
		}
		for _, s := range seqs {
			if s > st.AckedThrough && !have[s] {
				t.Fatalf("cycle %d: event %d was appended (Append returned) but is gone", cycle, s)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("crash loop: %d events printed and found, %d kills early in start-up, in %v",
		printed, killedEarly, time.Since(start).Round(time.Millisecond))
	if printed == 0 {
		t.Fatal("the child never appended")
	}
}

func firstLast(p []store.Sealed) string {
	if len(p) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d..%d", p[0].Seq, p[len(p)-1].Seq)
}

// crashChild is the child of TestCrashLoop: it appends until killed.
func crashChild(path string) {
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	hubKey, err := seal.ParsePublicKey(os.Getenv(envCrashHub))
	if err != nil {
		fail(err)
	}
	// Small segments, so kills land on segment starts too.
	l, err := store.OpenLog(path, store.LogOptions{Hub: hubKey, SegmentSize: 16, Logger: quiet})
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	for i := 0; ; i++ {
		id := make([]byte, 16)
		for j := range id {
			id[j] = byte(rng.IntN(256))
		}
		ev := &scanner.Event{
			Wall:      time.Now().UnixNano(),
			Site:      "crash",
			Direction: scanner.Direction(i % 2),
			Allow:     rng.IntN(5) != 0,
			Reason:    scanner.ReasonOK,
			PassID:    id,
			Household: id[:4],
			Holder:    "XY 1-2",
		}
		seq, err := l.Append(ev)
		if err != nil {
			fail(err)
		}
		fmt.Printf("seq %d\n", seq)
		switch {
		case i%40 == 39 && seq > 10:
			if err := l.Ack(seq - 10); err != nil {
				fail(err)
			}
			fmt.Printf("ack %d\n", seq-10)
		case i%25 == 7:
			if err := l.RaiseTimeFloor(time.Now()); err != nil {
				fail(err)
			}
		}
	}
}
