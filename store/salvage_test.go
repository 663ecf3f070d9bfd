package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
)

// damagePage overwrites page pgid of the file at path with garbage.
func damagePage(t *testing.T, path string, pgid uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(garbage(4096), int64(pgid)*4096); err != nil {
		t.Fatal(err)
	}
}

// middleLeaf returns a leaf page of the events bucket in the middle of the
// pending events (sequences after ackedThrough) and the sequences on it.
func middleLeaf(t *testing.T, path string, ackedThrough uint64) (pgid uint64, seqs map[uint64]bool) {
	t.Helper()
	r, err := rescueLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pending []leafRef
	for _, ref := range r.leaves {
		if ref.inline == nil && ref.lo != nil && binary.BigEndian.Uint64(ref.lo) > ackedThrough {
			pending = append(pending, ref)
		}
	}
	if len(pending) < 3 {
		t.Fatalf("%d leaves of pending events; the test needs a bigger log", len(pending))
	}
	ref := pending[len(pending)/2]
	_, es, err := r.read(ref)
	if err != nil {
		t.Fatal(err)
	}
	seqs = map[uint64]bool{}
	for _, e := range es {
		seqs[binary.BigEndian.Uint64(e.k)] = true
	}
	return ref.pgid, seqs
}

// openedEvents opens every pending event of l with the hub's key, checks it
// is the event sealed under its sequence, and returns them by sequence.
func openedEvents(t *testing.T, l *Log, priv *seal.PrivateKey) map[uint64]scanner.Event {
	t.Helper()
	pend, err := l.Pending(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(pend)) != st.Pending {
		t.Fatalf("%d events pending, stats say %d", len(pend), st.Pending)
	}
	hub := seal.NewOpener(priv)
	got := map[uint64]scanner.Event{}
	for _, s := range pend {
		msg, err := hub.Open(s.Header, s.Seq, s.Box)
		if err != nil {
			t.Fatalf("event %d does not open at the hub: %v", s.Seq, err)
		}
		var ev scanner.Event
		if err := ev.UnmarshalBinary(msg); err != nil || ev.Seq != s.Seq {
			t.Fatalf("event %d: %v (seq %d)", s.Seq, err, ev.Seq)
		}
		got[s.Seq] = ev
	}
	return got
}

// The events a damaged log still holds, and the hub has not acknowledged,
// are carried into the fresh log with their sequences and open at the hub
// as sealed the first time.
func TestSalvage(t *testing.T) {
	const acked = 100 // makeLog acknowledges the first 100 of 300
	cases := []struct {
		name string
		// damage damages the log and returns the pending events that may
		// be lost, and whether the acknowledgement stays readable.
		damage func(t *testing.T, path string) (mayLose map[uint64]bool, ackKnown bool)
	}{
		{"unfinished opens (file intact)", func(t *testing.T, path string) (map[uint64]bool, bool) {
			markUnfinished(t, path)
			return nil, true
		}},
		{"events root page garbage", func(t *testing.T, path string) (map[uint64]bool, bool) {
			pgid, _ := eventsRoot(t, path)
			damagePage(t, path, pgid)
			// The older meta's tree has every event before the last;
			// the last one's leaf is found by the page scan.
			return nil, true
		}},
		{"a leaf of pending events garbage", func(t *testing.T, path string) (map[uint64]bool, bool) {
			pgid, seqs := middleLeaf(t, path, acked)
			damagePage(t, path, pgid)
			// Older copies of the leaf in freed pages may give some back.
			return seqs, true
		}},
		{"meta pages zeroed", func(t *testing.T, path string) (map[uint64]bool, bool) {
			zeroMetas(t, path)
			// Every leaf is found by the page scan; with the
			// acknowledgement unknown, acknowledged events still on
			// freed pages come back too (the hub stores each once).
			return nil, false
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			priv, last, _ := makeLog(t, path)
			mayLose, ackKnown := c.damage(t, path)

			l := openRecovered(t, path, priv)
			got := openedEvents(t, l, priv)
			if l.Recovery().Carried != len(got) {
				t.Fatalf("Recovery says %d carried, %d pending", l.Recovery().Carried, len(got))
			}
			for seq := uint64(acked + 1); seq <= last; seq++ {
				if _, ok := got[seq]; !ok && !mayLose[seq] {
					t.Fatalf("pending event %d not carried over (%d carried)", seq, len(got))
				}
			}
			for seq, ev := range got {
				// makeLog's event i (sequence i+1) is at recBase + i s.
				if seq > last || (ackKnown && seq <= acked) || ev.Wall != recBase.Add(time.Duration(seq-1)*time.Second).UnixNano() {
					t.Fatalf("carried event %d: wall %d", seq, ev.Wall)
				}
			}
			t.Logf("%d events carried over; %d might have been lost", len(got), len(mayLose))
			// New events go on past the old ones and are pending after
			// them; the hub's acknowledgements delete both.
			st, _ := l.Stats()
			seq, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Hour).UnixNano()})
			if err != nil || seq != st.NextSeq || seq <= last {
				t.Fatalf("append after the carry: %d, %v", seq, err)
			}
			if all := openedEvents(t, l, priv); len(all) != len(got)+1 {
				t.Fatalf("%d pending after one append to %d carried", len(all), len(got))
			}
			if err := l.Ack(last - 50); err != nil {
				t.Fatal(err)
			}
			for s := range openedEvents(t, l, priv) {
				if s <= last-50 {
					t.Fatalf("event %d pending after the ack through %d", s, last-50)
				}
			}
			if err := l.Ack(seq); err != nil {
				t.Fatal(err)
			}
			if st, _ := l.Stats(); st.Pending != 0 || st.Retained != 0 {
				t.Fatalf("after acknowledging everything: %+v", st)
			}
			// The carry is done: reopening carries nothing again.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if n := len(openedEvents(t, l, priv)); n != 0 {
				t.Fatalf("%d events pending after reopening", n)
			}
		})
	}
}

// With the sidecar lost as well, the fresh log starts past every event the
// damaged one still shows, and carries them.
func TestSalvageSidecarLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	if err := os.Remove(sidecarPath(path)); err != nil {
		t.Fatal(err)
	}
	pgid, seqs := middleLeaf(t, path, 100)
	damagePage(t, path, pgid)
	l := openRecovered(t, path, priv)
	if st, _ := l.Stats(); st.NextSeq <= last {
		t.Fatalf("fresh log starts at %d, after a log that used %d", st.NextSeq, last)
	}
	got := openedEvents(t, l, priv)
	for seq := uint64(101); seq <= last; seq++ {
		if _, ok := got[seq]; !ok && !seqs[seq] {
			t.Fatalf("pending event %d not carried over", seq)
		}
	}
	// The time floor comes back with the events: the damaged log's floor
	// and its latest event agree, so both count.
	if want := recBase.Add(time.Duration(last-1) * time.Second); l.TimeFloor().Before(want) {
		t.Fatalf("time floor %v, the latest event carried over is at %v", l.TimeFloor(), want)
	}
}

// A floor read from a damaged file counts only within an hour of the
// sidecar's, or, with no sidecar, when the file's two times agree.
func TestSalvageFloor(t *testing.T) {
	h := int64(time.Hour)
	side := recBase.UnixNano()
	for _, c := range []struct {
		floor, latest, side, want int64
	}{
		{side + 10*60e9, 0, side, side + 10*60e9},
		{side + 2*h, 0, side, 0},                                // too far ahead of the sidecar
		{side + 100*365*24*h, side/1e9 + 60, side, side + 60e9}, // a flipped high bit
		{side - h, 0, side, 0},                                  // behind: nothing to raise
		{side + 30*60e9, side/1e9 + 29*60, 0, side + 29*60e9},
		{side + 5*h, side / 1e9, 0, 0}, // no sidecar, and they disagree
		{side, 0, 0, 0},                // no sidecar, one value
	} {
		r := &rescue{floor: c.floor, latest: c.latest}
		if got := salvageFloor(r, c.side); got != c.want {
			t.Errorf("floor %d, latest %d s, sidecar %d: %d, want %d", c.floor, c.latest, c.side, got, c.want)
		}
	}
}

// A carry cut short (the process died) is done again at the next open,
// without duplicates; after maxSalvageTries it is given up, the damaged
// file kept.
func TestSalvageResumed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, _, _ := makeLog(t, path)
	damagePage(t, path, func() uint64 { p, _ := middleLeaf(t, path, 100); return p }())
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	want := openedEvents(t, l, priv)
	if len(want) < 150 {
		t.Fatalf("only %d events carried over at the recovery", len(want))
	}
	aside := l.Recovery().Aside
	below := l.next
	l.Close()

	// Put the file back as a carry cut short after its first batch would
	// leave it: the mark, some events, the acknowledgement not yet moved.
	cutShort := func(tries uint32) {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(keySalvage, []byte(filepath.Base(aside))); err != nil {
				return err
			}
			if err := meta.Put(keySalvageTries, u32(tries)); err != nil {
				return err
			}
			if err := meta.Put(keyAcked, u64(below-1)); err != nil {
				return err
			}
			events := tx.Bucket(bucketEvents)
			for seq := range want {
				if seq%2 == 0 {
					if err := events.Delete(u64(seq)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cutShort(1)
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	got := openedEvents(t, l, priv)
	if len(got) != len(want) {
		t.Fatalf("resumed carry: %d events, want %d", len(got), len(want))
	}
	for seq, ev := range want {
		if got[seq].Wall != ev.Wall {
			t.Fatalf("event %d differs after the resumed carry", seq)
		}
	}
	l.Close()

	cutShort(maxSalvageTries)
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := openedEvents(t, l, priv); len(got) != 0 {
		// The half carried are below the acknowledgement: not pending.
		t.Fatalf("%d events pending after giving up", len(got))
	}
	if _, err := os.Stat(aside); err != nil {
		t.Fatalf("the damaged log is gone after giving up: %v", err)
	}
	err = l.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keySalvage) != nil {
			t.Error("the mark is still there after giving up")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzRescue reads arbitrary bytes as damaged logs: it never panics, every
// leaf it keeps reads again, the next sequence is past every event in them,
// and segment headers have their size.
func FuzzRescue(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.db")
	l, err := OpenLog(path, LogOptions{Hub: mustHub(f), Logger: quietLog})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 40 {
		if _, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Second).UnixNano(), Allow: true}); err != nil {
			f.Fatal(err)
		}
	}
	l.Close()
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	// Keep the used pages only: fuzzing 1 MiB of zeros finds little.
	f.Add(seed[:8*4096])
	f.Add(seed[:2*4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := rescueFrom(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, ref := range r.leaves {
			_, es, err := r.read(ref)
			if err != nil {
				t.Fatalf("a leaf the walk kept fails to read again: %v", err)
			}
			for _, e := range es {
				if isEvent(e.k, e.v, e.flags) && binary.BigEndian.Uint64(e.k) >= r.next {
					t.Fatalf("event %x at or past the next sequence %d", e.k, r.next)
				}
			}
		}
		for _, hdr := range r.segments {
			if len(hdr) != seal.HeaderSize {
				t.Fatalf("segment header of %d bytes", len(hdr))
			}
		}
	})
}

func mustHub(t testing.TB) seal.PublicKey {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return priv.Public()
}

// With a retention, carried events the hub acknowledged are kept and
// counted as retained, the others as pending.
func TestSalvageStatsWithRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	markUnfinished(t, path)
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		if _, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Hour).UnixNano()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Ack(last - 50); err != nil {
		t.Fatal(err)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// 101..last-50 retained; last-49..last and the 3 new ones pending.
	if st.Retained != last-50-100 || st.Pending != 50+3 || uint64(len(openedEvents(t, l, priv))) != st.Pending {
		t.Fatalf("retained %d, pending %d", st.Retained, st.Pending)
	}
	seq := st.NextSeq - 2 // acknowledge into the fresh log's own events
	if err := l.Ack(seq); err != nil {
		t.Fatal(err)
	}
	if st, _ = l.Stats(); st.Retained != last-100+2 || st.Pending != 1 {
		t.Fatalf("after an ack through %d: retained %d, pending %d", seq, st.Retained, st.Pending)
	}
}

// fillLog appends events to a fresh log at path until it is full (or n
// events, if n > 0) and returns the hub key and how many it holds.
func fillLog(t *testing.T, path string, opt LogOptions, n int) (*seal.PrivateKey, int) {
	t.Helper()
	l, priv := newTestLog(t, path, opt)
	count := 0
	for n <= 0 || count < n {
		// Denied: the log then holds events only, no gate state.
		_, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Duration(count) * time.Second).UnixNano(), PassID: []byte{byte(count)}})
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return priv, count
}

// A full log, damaged, is carried whole into a fresh log of the same size
// (the carry packs events as Append does). With less room, the carry puts
// in what fits, all of it pending, and ends: the rest stays in the damaged
// file, and a later open does not take the carry up again (the hub may
// have acknowledged new events past the carried ones by then).
func TestSalvageFullLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	const size = 4 << 20
	priv, n := fillLog(t, path, LogOptions{MaxSize: size}, 0)
	// A copy of the full log, for the second half (filling one takes
	// thousands of fsyncs).
	full := filepath.Join(t.TempDir(), "events.db")
	copyFile(t, path, full)
	copyFile(t, sidecarPath(path), sidecarPath(full))
	markUnfinished(t, path)
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, MaxSize: size})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(openedEvents(t, l, priv)); got != n || l.Recovery().Carried != n {
		t.Fatalf("carried %d (Recovery says %d) of a full log's %d", got, l.Recovery().Carried, n)
	}
	l.Close()

	// Again, into a log a quarter the size.
	path = full
	markUnfinished(t, path)
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, MaxSize: size / 4})
	if err != nil {
		t.Fatal(err)
	}
	part := openedEvents(t, l, priv)
	if len(part) == 0 || len(part) >= n || l.Recovery().Carried != len(part) {
		t.Fatalf("carried %d (Recovery says %d) of %d into a quarter of the room", len(part), l.Recovery().Carried, n)
	}
	carried := len(part)
	// The log knows where its acknowledgement is: the hub's take effect.
	if err := l.Ack(1000); err != nil {
		t.Fatal(err)
	}
	for s := range openedEvents(t, l, priv) {
		if s <= 1000 {
			t.Fatalf("event %d pending after an ack through 1000", s)
		}
		delete(part, s)
	}
	if len(part) != 1000 {
		t.Fatalf("the ack through 1000 took %d events", len(part))
	}
	l.Close()
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, MaxSize: size})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := len(openedEvents(t, l, priv)); got != carried-1000 {
		t.Fatalf("%d pending at the next open, %d before", got, carried-1000)
	}
}

// A carry cut short by a crash is finished at the next open, which finds
// the fresh log sound (the crash is not taken for a damaged file); a carry
// that crashes every time is given up after maxSalvageTries.
func TestSalvageCrash(t *testing.T) {
	if path := os.Getenv(envCarryChild); path != "" {
		salvageBatch = 50
		stop := os.Getenv(envCarryStop)
		carryHook = func(stage string) {
			if stage == stop {
				os.Exit(7)
			}
		}
		priv, err := seal.ParsePublicKey(os.Getenv(envCarryHub))
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenLog(path, LogOptions{Hub: priv, Logger: quietLog})
		t.Fatalf("the carry finished: %v", err)
	}
	crash := func(t *testing.T, path string, hub seal.PublicKey, stage string) {
		t.Helper()
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run", "^TestSalvageCrash$")
		// Under qemu-user, the child runs under the same emulator.
		for _, env := range []string{"CHECKPOINT_QEMU_EXEC", "CHECKPOINT_EXEC"} {
			if launcher := os.Getenv(env); launcher != "" {
				cmd = exec.Command(launcher, exe, "-test.run", "^TestSalvageCrash$")
				break
			}
		}
		cmd.Env = append(os.Environ(), envCarryChild+"="+path, envCarryHub+"="+hub.String(), envCarryStop+"="+stage)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Fatalf("the child did not stop after a batch: %v\n%s", err, out)
		}
	}
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	markUnfinished(t, path)
	crash(t, path, priv.Public(), "batch")
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := l.Stats()
	if l.Recovery() != nil || st.Recoveries != 1 {
		t.Fatalf("the open after a crash in the carry: recovery %+v, %d recoveries", l.Recovery(), st.Recoveries)
	}
	if got := len(openedEvents(t, l, priv)); got != int(last)-100 {
		t.Fatalf("%d events after the carry was finished, want %d", got, last-100)
	}
	l.Close()

	path = filepath.Join(t.TempDir(), "events.db")
	priv, _, _ = makeLog(t, path)
	markUnfinished(t, path)
	// A carry that dies after each batch makes progress and goes on.
	for range maxSalvageTries {
		crash(t, path, priv.Public(), "batch")
	}
	crash(t, path, priv.Public(), "begin")
	crash(t, path, priv.Public(), "begin")
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Three tries put in a batch each; then two died before any, and
	// this open gave up.
	if got := len(openedEvents(t, l, priv)); got != 3*50 {
		t.Fatalf("%d events pending after the carry was given up, want three batches of 50", got)
	}
}

const (
	envCarryChild = "CHECKPOINT_STORE_CARRY_CHILD"
	envCarryHub   = "CHECKPOINT_STORE_CARRY_HUB"
	envCarryStop  = "CHECKPOINT_STORE_CARRY_STOP"
)

// The older meta page's tree gives back what a damaged page of the newer
// one held; the acknowledgement is the newer meta's.
func TestSalvageOlderTree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	// The last commit acknowledges: the two meta pages then disagree.
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ack(200); err != nil {
		t.Fatal(err)
	}
	l.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	r, err := rescueTrees(f, fi.Size())
	f.Close()
	if err != nil || !r.ackedOK || r.acked != 200 || r.next != last+1 {
		t.Fatalf("rescue of a sound log: acked %d (%v), next %d: %v", r.acked, r.ackedOK, r.next, err)
	}

	pgid, _ := eventsRoot(t, path)
	damagePage(t, path, pgid)
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err = rescueTrees(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	// The older tree is the one before the acknowledgement: it still
	// has the events through 200 (and its meta says 100).
	seqs := map[uint64]bool{}
	for _, ref := range r.leaves {
		_, es, _ := r.read(ref)
		for _, e := range es {
			seqs[binary.BigEndian.Uint64(e.k)] = true
		}
	}
	for s := uint64(101); s <= last; s++ {
		if !seqs[s] {
			t.Fatalf("event %d not in the older tree (%d events found)", s, len(seqs))
		}
	}
	if !r.ackedOK || r.acked != 200 {
		t.Fatalf("acknowledgement %d (%v): the newer tree's meta bucket is intact, and its value wins", r.acked, r.ackedOK)
	}
}

// A hostile file cannot make the rescue read much more than the file:
// every page claims to overflow to the end of the file and is refused only
// once read whole (two elements with one key).
func TestRescueHostileFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	makeLog(t, path)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ps, pages = 4096, 512
	b := make([]byte, pages*ps)
	copy(b, good[:2*ps]) // the meta pages, pointing into the pages below
	for pg := uint64(2); pg < pages; pg++ {
		p := b[pg*ps:]
		ne.PutUint64(p, pg)
		ne.PutUint16(p[8:], flagLeaf)
		ne.PutUint16(p[10:], 2)
		ne.PutUint32(p[12:], uint32(pages-pg-1))
		ne.PutUint32(p[20:], 32)
		ne.PutUint32(p[24:], 1)
		ne.PutUint32(p[36:], 16)
		ne.PutUint32(p[40:], 1)
	}
	r, err := rescueFrom(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if r.w.read > 4*int64(len(b)) || len(r.leaves) != 0 {
		t.Fatalf("read %d bytes of a %d-byte file, kept %d leaves", r.w.read, len(b), len(r.leaves))
	}
	// Pages whose element tables fill the whole overflow they claim,
	// wrong from the first element: the read budget stops them.
	for pg := uint64(2); pg < pages; pg++ {
		p := b[pg*ps:]
		ne.PutUint16(p[10:], 15000)
		ne.PutUint32(p[12:], uint32(min(pages-pg-1, 60)))
		ne.PutUint32(p[20:], 1<<30) // element 0 far outside the page
	}
	r, err = rescueFrom(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if r.w.read > r.w.budget || r.w.budget > 16*int64(len(b))+1<<20 {
		t.Fatalf("read %d bytes of a %d-byte file (budget %d)", r.w.read, len(b), r.w.budget)
	}
}

// BenchmarkRecoverCarry measures an open that finds a full log damaged
// (here: its last opens never finished), moves it aside and carries its
// events into a fresh log: the start-up a gate pays after a recovery.
func BenchmarkRecoverCarry(b *testing.B) {
	const size = 16 << 20
	dir := b.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	l, priv := newTestLog(b, pristine, LogOptions{MaxSize: size})
	n := 0
	for ; ; n++ {
		// A typical allowed event; its gate state stays behind.
		ev := &scanner.Event{Wall: recBase.Add(time.Duration(n) * time.Second).UnixNano(), Allow: true,
			Site: "north-gate", Input: "camera0", Issuer: "district-7", PassID: binary.BigEndian.AppendUint64(nil, uint64(n)),
			Household: []byte{byte(n)}, Holder: "WL 12-345", Status: scanner.Green, Reason: scanner.ReasonOK}
		if _, err := l.Append(ev); errors.Is(err, ErrFull) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	data, err := os.ReadFile(pristine)
	if err != nil {
		b.Fatal(err)
	}
	side, err := os.ReadFile(sidecarPath(pristine))
	if err != nil {
		b.Fatal(err)
	}
	var carried int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("events%d.db", i))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(sidecarPath(path), side, 0o600); err != nil {
			b.Fatal(err)
		}
		markUnfinished(b, path)
		b.StartTimer()
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog, MaxSize: size})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		carried = l.Recovery().Carried
		l.Close()
		matches, _ := filepath.Glob(path + "*")
		for _, m := range matches {
			os.Remove(m)
		}
		b.StartTimer()
	}
	if carried != n {
		b.Fatalf("carried %d of %d events", carried, n)
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(len(data))/float64(1<<20), "MiB")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// Leaves of the largest events (bbolt keeps up to four in one leaf, over
// many pages) are carried like any other.
func TestSalvageBigEvents(t *testing.T) {
	for _, size := range []int{20 << 10, 40 << 10, 60 << 10} {
		path := filepath.Join(t.TempDir(), "events.db")
		l, priv := newTestLog(t, path, LogOptions{})
		for i := range 6 {
			ev := &scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Second).UnixNano(), Detail: strings.Repeat("x", size)}
			if _, err := l.Append(ev); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		markUnfinished(t, path)
		l = openRecovered(t, path, priv)
		if got := len(openedEvents(t, l, priv)); got != 6 {
			t.Errorf("events of %d bytes: %d of 6 carried", size, got)
		}
	}
}

// A log that is missing beside a damaged copy the carry file names (the
// process died between moving the damaged log aside and putting the fresh
// one in place) is started fresh carrying that copy; with the sidecar lost
// too, sequences still go on past it. Other damaged copies, older by name
// or not, are not taken up, nor is a copy whose carry was done.
func TestSalvageMissingLog(t *testing.T) {
	for _, sidecarLost := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "events.db")
		priv, last, _ := makeLog(t, path)
		// An older damaged log with a later name (the clock was ahead
		// then), sealed to another hub: carrying it would show.
		other := filepath.Join(t.TempDir(), "other.db")
		makeLog(t, other)
		if err := copyTo(path+".corrupt-20991231T000000Z", other); err != nil {
			t.Fatal(err)
		}
		aside := path + ".corrupt-20260401T120000Z"
		if err := os.WriteFile(carryPath(path), []byte(filepath.Base(aside)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path, aside); err != nil {
			t.Fatal(err)
		}
		if sidecarLost {
			if err := os.Remove(sidecarPath(path)); err != nil {
				t.Fatal(err)
			}
		}
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := l.Stats()
		if got := len(openedEvents(t, l, priv)); got != int(last)-100 || st.NextSeq <= last {
			t.Errorf("sidecar lost %v: %d events carried, next %d", sidecarLost, got, st.NextSeq)
		}
		if _, err := os.Stat(carryPath(path)); !os.IsNotExist(err) {
			t.Errorf("carry file left: %v", err)
		}
		// The hub has everything; the log is removed (a reset). The
		// next open starts empty: nothing is carried twice.
		if err := l.Ack(st.NextSeq - 1); err != nil {
			t.Fatal(err)
		}
		l.Close()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(openedEvents(t, l, priv)); got != 0 {
			t.Errorf("sidecar lost %v: %d events pending in a log started after a reset", sidecarLost, got)
		}
		l.Close()
	}
}

func copyTo(to, from string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// Damaged logs carried one from another: the chain is followed a few
// hops, and the log is never left with a mark once OpenLog returns.
func TestSalvageChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	// Six damaged copies, each still carrying from the one before.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var prev string
	for i := 1; i <= 6; i++ {
		aside := fmt.Sprintf("%s.corrupt-2026040%dT120000Z", path, i)
		if err := os.WriteFile(aside, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if prev != "" {
			db, err := bolt.Open(aside, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keySalvage, []byte(filepath.Base(prev)))
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		prev = aside
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(carryPath(path), []byte(filepath.Base(prev)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := len(openedEvents(t, l, priv)); got != int(last)-100 {
		t.Fatalf("%d events carried, want %d", got, last-100)
	}
	err = l.db.View(func(tx *bolt.Tx) error {
		for _, k := range [][]byte{keySalvage, keySalvageTries, keySalvageDone} {
			if v := tx.Bucket(bucketMeta).Get(k); v != nil {
				t.Errorf("meta %s = %q after the open", k, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
