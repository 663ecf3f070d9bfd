package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// fillUntilFull appends until Append fails three times in a row; each
// failure must be ErrFull. (A failed commit can make a little room: bbolt
// rebuilds its free list after it, so one more small append may fit.) It
// returns the sequences appended.
func fillUntilFull(t testing.TB, l *store.Log, rng *rand.Rand, max int) []uint64 {
	t.Helper()
	var seqs []uint64
	for i, fails := 0, 0; fails < 3; i++ {
		if i == max {
			t.Fatalf("no ErrFull after %d appends", max)
		}
		seq, err := l.Append(benchEvent(len(seqs), rng))
		if err != nil {
			if !errors.Is(err, store.ErrFull) {
				t.Fatalf("append %d: %v, want ErrFull", i, err)
			}
			fails++
			continue
		}
		fails = 0
		seqs = append(seqs, seq)
	}
	return seqs
}

// checkIntact checks that exactly the events seqs are pending and open.
func checkIntact(t testing.TB, l *store.Log, hub *seal.Opener, seqs []uint64) {
	t.Helper()
	p, err := l.Pending(0, len(seqs)+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != len(seqs) {
		t.Fatalf("%d pending, want %d", len(p), len(seqs))
	}
	for i, s := range p {
		if s.Seq != seqs[i] {
			t.Fatalf("pending[%d] = %d, want %d", i, s.Seq, seqs[i])
		}
		if _, err := hub.Open(s.Header, s.Seq, s.Box); err != nil {
			t.Fatalf("event %d: %v", s.Seq, err)
		}
	}
}

func TestFullMaxSize(t *testing.T) {
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	const maxSize = 256 << 10
	opt := store.LogOptions{Hub: priv.Public(), MaxSize: maxSize}
	l := openLog(t, path, opt)
	rng := rand.New(rand.NewPCG(7, 8))
	seqs := fillUntilFull(t, l, rng, 100000)
	if len(seqs) < 100 {
		t.Fatalf("only %d events fit in %d bytes", len(seqs), maxSize)
	}
	// Nothing harmed.
	checkIntact(t, l, hub, seqs)
	if _, _, ok, err := l.LastSeen("", []byte("x")); err != nil || ok {
		t.Fatalf("LastSeen on a full log: %v %v", ok, err)
	}
	if err := l.RaiseTimeFloor(t0.Add(time.Hour)); err != nil {
		t.Fatalf("RaiseTimeFloor on a full log: %v", err)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.FullErrors < 3 || st.FileSize > maxSize+maxSize/16+2<<20 {
		t.Fatalf("stats: %d full errors, file %d bytes", st.FullErrors, st.FileSize)
	}
	t.Logf("%d events in a %d-byte log (MaxSize %d)", len(seqs), st.FileSize, maxSize)

	// Reopen: the check passes and every event is there.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, path, opt)
	if l.Recovery() != nil {
		t.Fatal("full log was damaged")
	}
	checkIntact(t, l, hub, seqs)

	// Acknowledging frees space; appends resume.
	half := seqs[len(seqs)/2]
	if err := l.Ack(half); err != nil {
		t.Fatalf("Ack on a full log: %v", err)
	}
	// (Only the events' pages are freed: the gate state stays until it
	// expires, and how well its hashed keys pack varies with the hash key.)
	more := fillUntilFull(t, l, rng, 100000)
	if len(more) < len(seqs)/8 {
		t.Fatalf("after acking half, only %d more events fit", len(more))
	}
	if more[0] != seqs[len(seqs)-1]+1 {
		t.Fatalf("after full, next sequence %d, want %d", more[0], seqs[len(seqs)-1]+1)
	}
	checkIntact(t, l, hub, append(seqs[len(seqs)/2+1:], more...))
}

func TestFullDropsRetainedFirst(t *testing.T) {
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	l := openLog(t, path, store.LogOptions{Hub: priv.Public(), MaxSize: 256 << 10, Retention: 365 * 24 * time.Hour})
	rng := rand.New(rand.NewPCG(9, 10))
	seqs := fillUntilFull(t, l, rng, 100000)
	// Acknowledge most: they are retained, until appends need the room:
	// then retained events go, never unacknowledged ones.
	through := seqs[len(seqs)*3/4]
	if err := l.Ack(through); err != nil {
		t.Fatal(err)
	}
	st, _ := l.Stats()
	if st.Retained != uint64(len(seqs)*3/4+1) {
		t.Fatalf("%d retained, want %d", st.Retained, len(seqs)*3/4+1)
	}
	more := fillUntilFull(t, l, rng, 100000)
	// (The gate state of the dropped events stays until it expires, so
	// fewer new events fit than were dropped.)
	if len(more) < len(seqs)/8 {
		t.Fatalf("only %d more events fit after acknowledging %d", len(more), len(seqs)*3/4+1)
	}
	st, _ = l.Stats()
	if st.Retained != 0 {
		t.Fatalf("%d retained on a full log", st.Retained)
	}
	checkIntact(t, l, hub, append(seqs[len(seqs)*3/4+1:], more...))
}

const (
	envFsizeChild = "CHECKPOINT_STORE_FSIZE_CHILD"
	envFsizeHub   = "CHECKPOINT_STORE_FSIZE_HUB"
	fsizeLimit    = 3 << 20
)

// TestFullRlimitFsize fills the log in a child process whose file size is
// limited with RLIMIT_FSIZE (and SIGXFSZ ignored), so the file system
// refuses to grow the file (EFBIG). The child checks ErrFull, that nothing
// was harmed and that appends resume after an Ack; the parent then reopens
// the log without the limit and checks it.
func TestFullRlimitFsize(t *testing.T) {
	if path := os.Getenv(envFsizeChild); path != "" {
		fsizeChild(path)
		return
	}
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := childCommand(t, "-test.run=^TestFullRlimitFsize$")
	cmd.Env = append(os.Environ(), envFsizeChild+"="+path, envFsizeHub+"="+priv.Public().String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("cannot re-execute the test binary: %v", err)
		}
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	var first, last uint64
	var full, resumed int
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[0] == "result" {
			first, _ = strconv.ParseUint(f[1], 10, 64)
			last, _ = strconv.ParseUint(f[2], 10, 64)
			full, _ = strconv.Atoi(f[3])
			resumed, _ = strconv.Atoi(f[4])
		}
	}
	if last == 0 {
		t.Fatalf("child reported nothing:\n%s", out.String())
	}
	t.Logf("child: %d events until EFBIG at %d bytes, %d more after an ack", full, fsizeLimit, resumed)
	l := openLog(t, path, store.LogOptions{Hub: priv.Public()})
	if l.Recovery() != nil {
		t.Fatalf("log damaged by the full file system: %+v", l.Recovery())
	}
	var want []uint64
	for s := first; s <= last; s++ {
		want = append(want, s)
	}
	checkIntact(t, l, hub, want)
}

func fsizeChild(path string) {
	fail := func(format string, args ...any) {
		fmt.Printf("error "+format+"\n", args...)
		os.Exit(2)
	}
	hubKey, err := seal.ParsePublicKey(os.Getenv(envFsizeHub))
	if err != nil {
		fail("%v", err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: fsizeLimit, Max: fsizeLimit}); err != nil {
		fail("setrlimit: %v", err)
	}
	// No MaxSize to speak of: the file system is the limit.
	l, err := store.OpenLog(path, store.LogOptions{Hub: hubKey, MaxSize: 1 << 30, Logger: quiet})
	if err != nil {
		fail("open: %v", err)
	}
	// Unsynced while filling, to keep the test fast: the file system's
	// refusal, not fsync, is under test. The appends after the Ack sync.
	store.NoSyncForTest(l, true)
	rng := rand.New(rand.NewPCG(11, 12))
	var seqs []uint64
	for i := 0; ; i++ {
		if i == 100000 {
			fail("no ErrFull after %d appends", i)
		}
		seq, err := l.Append(benchEvent(i, rng))
		if err != nil {
			if !errors.Is(err, store.ErrFull) {
				fail("append: %v, want ErrFull", err)
			}
			break
		}
		seqs = append(seqs, seq)
	}
	full := len(seqs)
	if fi, err := os.Stat(path); err != nil || fi.Size() > fsizeLimit {
		fail("file size %v past the limit", fi)
	}
	p, err := l.Pending(0, len(seqs)+10)
	if err != nil || len(p) != len(seqs) {
		fail("pending on a full log: %d events, %v; want %d", len(p), err, len(seqs))
	}
	store.NoSyncForTest(l, false)
	through := seqs[len(seqs)/2]
	if err := l.Ack(through); err != nil {
		fail("ack on a full file system: %v", err)
	}
	resumed := 0
	for range 20 {
		seq, err := l.Append(benchEvent(resumed, rng))
		if err != nil {
			fail("append after ack: %v", err)
		}
		seqs = append(seqs, seq)
		resumed++
	}
	if err := l.Close(); err != nil {
		fail("close: %v", err)
	}
	fmt.Printf("result %d %d %d %d\n", through+1, seqs[len(seqs)-1], full, resumed)
}

// Keeping appends out of the headroom takes no room from them: a log of a
// MaxSize between 1 and 2 MiB holds as many events as one of 1 MiB, where
// bbolt grows the file to its 1 MiB map whatever the MaxSize above it.
func TestAppendRoomSmallMaxSize(t *testing.T) {
	priv, _ := testHub(t)
	fill := func(maxSize int) int {
		path := filepath.Join(t.TempDir(), "events.db")
		l := openLog(t, path, store.LogOptions{Hub: priv.Public(), MaxSize: maxSize})
		store.NoSyncForTest(l, true)
		return len(fillUntilFull(t, l, rand.New(rand.NewPCG(7, 8)), 100000))
	}
	base := fill(1 << 20)
	for _, maxSize := range []int{1<<20 + 4<<10, 1<<20 + 64<<10, 3 << 19} {
		if n := fill(maxSize); n < base*9/10 { // how the hashed state keys pack varies a little
			t.Errorf("MaxSize %d holds %d events, MaxSize %d holds %d: appends refused on a log that is not full", maxSize, n, 1<<20, base)
		}
	}
}

// A full log that the hub drains a little at a time (Ack, then the gate
// fills what it freed) stays drainable. bbolt takes free pages before it
// checks MaxSize, so the pages an Ack grew the file by (in the headroom)
// must not go to appends; else each cycle moves the file further into the
// headroom until no page is free at MaxSize + headroom and Ack, the only
// way out, fails with ErrFull for good.
func TestFullAckCycles(t *testing.T) {
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	const maxSize = 4 << 20
	l := openLog(t, path, store.LogOptions{Hub: priv.Public(), MaxSize: maxSize})
	store.NoSyncForTest(l, true)
	rng := rand.New(rand.NewPCG(7, 8))
	var seqs []uint64
	fill := func() {
		for fails := 0; fails < 3; {
			ev := benchEvent(len(seqs), rng)
			ev.Allow = false // no gate state: only events fill the log
			seq, err := l.Append(ev)
			if err != nil {
				if !errors.Is(err, store.ErrFull) {
					t.Fatal(err)
				}
				fails++
				continue
			}
			fails = 0
			seqs = append(seqs, seq)
		}
	}
	fill()
	st0, _ := l.Stats()
	// Without the headroom kept from appends, Ack failed for good after
	// some 2,400 cycles; the creep that leads there shows within 60.
	const cycles = 500
	acked := 0
	for i := range cycles {
		acked = min(acked+20, len(seqs)-1)
		if err := l.Ack(seqs[acked]); err != nil {
			st, _ := l.Stats()
			t.Fatalf("cycle %d: Ack on the full log: %v (file %d bytes, first full at %d)", i, err, st.FileSize, st0.FileSize)
		}
		fill()
		// Appends fill MaxSize, never the headroom: a full log holds
		// no more than when it first filled (1% for how pages fall).
		if st, _ := l.Stats(); st.Pending > st0.Pending+st0.Pending/100 {
			t.Fatalf("cycle %d: %d events pending, %d when the log first filled: appends took the headroom (file %d bytes)", i, st.Pending, st0.Pending, st.FileSize)
		}
	}
	checkIntact(t, l, hub, seqs[acked+1:])
}

// An append that failed as the first event of a new segment leaves the
// Sealer in that segment, whose header was never stored. If the next
// sequence is not the failed one again (Ack moved the counter past
// sequences this log never wrote, as after an old copy was restored), the
// next event is sealed in that segment: Append reports it logged, but no
// stored header opens it.
func TestEventAfterFailedSegmentStartOpens(t *testing.T) {
	priv, hub := testHub(t)
	path := filepath.Join(t.TempDir(), "events.db")
	opt := store.LogOptions{Hub: priv.Public(), MaxSize: 256 << 10, Logger: quiet}
	rng := rand.New(rand.NewPCG(7, 8))
	// Fill the log, restarting the gate until its first append after an
	// open (which starts a new segment) fails.
	var l *store.Log
	for i := 0; l == nil; i++ {
		if i == 100000 {
			t.Fatal("the first append after an open never failed")
		}
		o, err := store.OpenLog(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		store.NoSyncForTest(o, true)
		for first := true; ; first = false {
			_, err = o.Append(benchEvent(i, rng))
			if err == nil {
				continue
			}
			if !errors.Is(err, store.ErrFull) {
				t.Fatal(err)
			}
			if first {
				l = o
			} else {
				_ = o.Close()
			}
			break
		}
	}
	t.Cleanup(func() { _ = l.Close() })
	st, _ := l.Stats()
	// The hub holds sequences past this log's counter (a restored copy).
	if err := l.Ack(st.NextSeq + 4); err != nil {
		t.Fatal(err)
	}
	seq, err := l.Append(benchEvent(1, rng))
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Pending(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].Seq != seq {
		t.Fatalf("pending %d events, want event %d", len(p), seq)
	}
	if _, err := hub.Open(p[0].Header, p[0].Seq, p[0].Box); err != nil {
		t.Errorf("event %d, reported logged, does not open at the hub: %v", seq, err)
	}
}
