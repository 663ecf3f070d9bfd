package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
)

var damageRuns = flag.Int("damageruns", 100, "damaged logs TestRandomDamageNeverCrashes opens")

var recBase = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// makeLog writes a log of 300 events (the first 100 acknowledged) and
// returns the hub key, the last sequence and the time floor.
func makeLog(t *testing.T, path string) (priv *seal.PrivateKey, last uint64, floor time.Time) {
	t.Helper()
	l, priv := newTestLog(t, path, LogOptions{})
	var err error
	for i := range 300 {
		ev := &scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Second).UnixNano(), Allow: true, PassID: []byte{byte(i)}}
		if last, err = l.Append(ev); err != nil {
			t.Fatal(err)
		}
		if i == 99 {
			if err := l.Ack(last); err != nil {
				t.Fatal(err)
			}
		}
	}
	floor = l.TimeFloor()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return priv, last, floor
}

// newTestLog opens a new log at path for a new hub key, with opt's other
// options, fsync off (the caller closes it).
func newTestLog(t testing.TB, path string, opt LogOptions) (*Log, *seal.PrivateKey) {
	t.Helper()
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	opt.Hub, opt.Logger = priv.Public(), quietLog
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	NoSyncForTest(l, true)
	return l, priv
}

// eventsRoot returns the page of the events bucket's root.
func eventsRoot(t *testing.T, path string) (pgid uint64, pageSize int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		pgid = uint64(tx.Bucket(bucketEvents).Root())
		return nil
	})
	if err != nil || pgid == 0 {
		t.Fatalf("events root page %d: %v", pgid, err)
	}
	return pgid, db.Info().PageSize
}

// markUnfinished makes the log at path look like one whose last opens
// never finished, so that the next open takes it for damaged.
func markUnfinished(t testing.TB, path string) {
	t.Helper()
	side, _, err := readSidecar(sidecarPath(path))
	if err != nil {
		t.Fatal(err)
	}
	side.attempts = maxOpenAttempts
	if err := writeSidecar(sidecarPath(path), &side); err != nil {
		t.Fatal(err)
	}
}

// zeroMetas zeroes both meta pages of the file at path.
func zeroMetas(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 2*4096), 0); err != nil {
		t.Fatal(err)
	}
}

// openRecovered opens the damaged log at path, which must be recovered,
// and closes it when the test ends.
func openRecovered(t *testing.T, path string, priv *seal.PrivateKey) *Log {
	t.Helper()
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if l.Recovery() == nil {
		t.Fatal("no recovery")
	}
	return l
}

func garbage(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestLogRecovery(t *testing.T) {
	damage := map[string]func(t *testing.T, path string){
		"meta pages zeroed": zeroMetas,
		"events root page garbage": func(t *testing.T, path string) {
			pgid, ps := eventsRoot(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(garbage(ps), int64(pgid)*int64(ps)); err != nil {
				t.Fatal(err)
			}
		},
		"truncated": func(t *testing.T, path string) {
			if err := os.Truncate(path, 3000); err != nil {
				t.Fatal(err)
			}
		},
		"not a bbolt file": func(t *testing.T, path string) {
			if err := os.WriteFile(path, garbage(64<<10), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"unfinished opens": func(t *testing.T, path string) { markUnfinished(t, path) },
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			priv, last, floor := makeLog(t, path)
			fn(t, path)
			damaged, _ := os.ReadFile(path)

			l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			rec := l.Recovery()
			if rec == nil || len(rec.Problems) == 0 {
				t.Fatalf("no recovery reported: %+v", rec)
			}
			if !strings.HasPrefix(rec.Aside, path+".corrupt-") {
				t.Fatalf("moved aside to %q", rec.Aside)
			}
			if aside, err := os.ReadFile(rec.Aside); err != nil || !bytes.Equal(aside, damaged) {
				t.Fatalf("the damaged log was not kept as it was: %v", err)
			}
			st, err := l.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Recoveries != 1 || st.LastCheck.OK || len(st.LastCheck.Problems) == 0 || st.Recovery == nil {
				t.Fatalf("stats after recovery: %+v", st)
			}
			if st.NextSeq <= last {
				t.Fatalf("fresh log starts at %d, reusing sequences up to %d", st.NextSeq, last)
			}
			if l.TimeFloor().Before(floor.Add(-sidecarFloorStep)) {
				t.Fatalf("time floor went back from %v to %v", floor, l.TimeFloor())
			}
			seq, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Hour).UnixNano()})
			if err != nil || seq != st.NextSeq {
				t.Fatalf("append after recovery: %d, %v", seq, err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			// The fresh log is healthy, and the count stays.
			l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			st, _ = l.Stats()
			if l.Recovery() != nil || st.Recoveries != 1 || !st.LastCheck.OK || st.NextSeq != seq+1 {
				t.Fatalf("reopened fresh log: recovery %+v, stats %+v", l.Recovery(), st)
			}
		})
	}
}

// With the sidecar lost as well, the fresh log starts past what can be read
// from the damaged one.
func TestLogRecoverySidecarLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, last, _ := makeLog(t, path)
	pgid, ps := eventsRoot(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage(ps), int64(pgid)*int64(ps)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Remove(sidecarPath(path)); err != nil {
		t.Fatal(err)
	}
	l := openRecovered(t, path, priv)
	if st, _ := l.Stats(); st.NextSeq <= last {
		t.Fatalf("fresh log starts at %d, reusing sequences up to %d", st.NextSeq, last)
	}
}

// A damaged or missing sidecar beside a healthy log is rebuilt from it.
func TestSidecarRebuilt(t *testing.T) {
	for _, damage := range []string{"garbage", "missing"} {
		t.Run(damage, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			priv, last, _ := makeLog(t, path)
			if damage == "missing" {
				os.Remove(sidecarPath(path))
			} else if err := os.WriteFile(sidecarPath(path), garbage(40), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			st, _ := l.Stats()
			if l.Recovery() != nil || st.NextSeq != last+1 {
				t.Fatalf("recovery %+v, next %d (want %d)", l.Recovery(), st.NextSeq, last+1)
			}
			side, found, err := readSidecar(sidecarPath(path))
			if err != nil || !found || side.hwm < last || side.attempts != 0 {
				t.Fatalf("sidecar %+v, %v, %v", side, found, err)
			}
		})
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	priv, _, _ := makeLog(t, path)
	opt := LogOptions{Hub: priv.Public(), Logger: quietLog, LockTimeout: 50 * time.Millisecond}
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	// More failed opens than maxOpenAttempts: a lock is not damage.
	for range maxOpenAttempts + 1 {
		if _, err := OpenLog(path, opt); !errors.Is(err, ErrLocked) {
			t.Fatalf("second open: %v, want ErrLocked", err)
		}
	}
	l.Close()
	l, err = OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Recovery() != nil {
		t.Fatalf("lock taken for damage: %+v", l.Recovery())
	}
	tr, err := OpenTrust(filepath.Join(filepath.Dir(path), "trust.db"), TrustOptions{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := OpenTrust(tr.Path(), TrustOptions{Logger: quietLog, LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second trust open: %v, want ErrLocked", err)
	}
}

// A leftover temporary file from a crash during creation is ignored.
func TestStaleNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	if err := os.WriteFile(path+".new", garbage(5000), 0o600); err != nil {
		t.Fatal(err)
	}
	priv, _ := seal.GenerateKey()
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Recovery() != nil {
		t.Fatal("recovery on a new log")
	}
	if _, err := os.Stat(path + ".new"); err == nil {
		t.Fatal("temporary file left behind")
	}
}

func TestTrustRecovery(t *testing.T) {
	for _, damage := range []string{"garbage page", "newer schema"} {
		t.Run(damage, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trust.db")
			tr, err := OpenTrust(path, TrustOptions{Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.PutDoc(KindKeySet, "root", []byte("a key set")); err != nil {
				t.Fatal(err)
			}
			tr.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			var pgid uint64
			err = db.Update(func(tx *bolt.Tx) error {
				pgid = uint64(tx.Bucket(bucketDocs).Root())
				if damage == "newer schema" {
					return tx.Bucket(bucketMeta).Put(keySchema, u32(TrustSchema+1))
				}
				return nil
			})
			ps := db.Info().PageSize
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if damage == "garbage page" {
				if pgid == 0 {
					// The docs bucket is inline; damage the root page.
					pgid = 3
				}
				f, _ := os.OpenFile(path, os.O_RDWR, 0)
				if _, err := f.WriteAt(garbage(ps), int64(pgid)*int64(ps)); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			tr, err = OpenTrust(path, TrustOptions{Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if tr.Recovery() == nil {
				t.Fatal("no recovery")
			}
			if _, err := tr.Doc(KindKeySet, "root"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rebuilt cache holds a doc: %v", err)
			}
			if err := tr.PutDoc(KindKeySet, "root", []byte("fresh")); err != nil {
				t.Fatal(err)
			}
			st, _ := tr.Stats()
			if st.Recoveries != 1 || st.LastCheck.OK || len(st.Docs) != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func FuzzSidecar(f *testing.F) {
	s := sidecar{gen: 7, hwm: 1024, floor: 5, recoveries: 1, attempts: 2}
	f.Add(s.encodeFile())
	both := s.encodeFile()
	s.gen++
	copy(both, s.encodeSlot()) // generation 8 goes in slot 0
	f.Add(both)
	f.Add([]byte("CPSIDE\x00\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSidecar(b)
		if err != nil {
			return
		}
		// The slot it came from holds exactly it.
		slot := b[(s.gen%2)*sidecarSlotStep:][:sidecarSlotSize]
		if !bytes.Equal(s.encodeSlot(), slot) {
			t.Fatalf("decoded %+v does not encode back to its slot", s)
		}
	})
}

// A sidecar survives a torn write of its newer slot, and rewrites in place.
func TestSidecarSlots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sidecar")
	s := sidecar{hwm: 1}
	for i := range 5 {
		s.hwm = uint64(i + 1)
		if err := writeSidecar(path, &s); err != nil {
			t.Fatal(err)
		}
		got, found, err := readSidecar(path)
		if err != nil || !found || got != s {
			t.Fatalf("read %+v, %v, %v; wrote %+v", got, found, err, s)
		}
	}
	// Tear the newer slot: the older one is read.
	b, _ := os.ReadFile(path)
	b[(s.gen%2)*sidecarSlotStep+20] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, err := readSidecar(path)
	if err != nil || got.hwm != s.hwm-1 || got.gen != s.gen-1 {
		t.Fatalf("after a torn write: %+v, %v", got, err)
	}
	// A write with no room on the file system still works: it is in place.
	fi1, _ := os.Stat(path)
	if err := writeSidecar(path, &got); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(path)
	if !os.SameFile(fi1, fi2) {
		t.Fatal("an in-place write replaced the file")
	}
}

// Two writers of one sidecar — the process that holds the log reserving
// sequences, and an open refused because the log is held, noting and
// withdrawing its attempt from a stale copy — never lower what the first
// wrote: the second's read, merge and write of a slot is one step, or it
// could write its stale copy over the first's newer reservation under the
// same generation.
func TestSidecarWritersDoNotLoseReservations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sidecar")
	holder := sidecar{hwm: 1}
	if err := writeSidecar(path, &holder); err != nil {
		t.Fatal(err)
	}
	// Unlocked, a write was lost within the first 2,000 in every run
	// tried; locked, the writers take turns at the disk's fsync, so the
	// holder stops after a few seconds too.
	writes, until := 2000, time.Now().Add(3*time.Second)
	if testing.Short() || os.Getenv("CHECKPOINT_QEMU") == "1" {
		writes = 300
	}
	var written atomic.Uint64 // the hwm of the holder's last finished write
	written.Store(1)
	done := make(chan struct{})
	errs := make(chan error, 3)
	go func() { // the holder
		defer close(done)
		for i := 0; i < writes && time.Now().Before(until); i++ {
			holder.hwm = uint64(i+2) * 100
			if err := writeSidecar(path, &holder); err != nil {
				errs <- err
				return
			}
			written.Store(holder.hwm)
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { // refused opens, each from the copy it read at its start
		for {
			select {
			case <-done:
				return
			default:
			}
			stale, _, err := readSidecar(path)
			if err != nil {
				errs <- err
				return
			}
			stale.attempts++
			if err := writeSidecar(path, &stale); err != nil {
				errs <- err
				return
			}
			stale.attempts--
			if err := writeSidecar(path, &stale); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() { // a reader, as the next open after a crash would be
		for {
			select {
			case <-done:
				return
			default:
			}
			want := written.Load()
			got, _, err := readSidecar(path)
			if err != nil {
				errs <- err
				return
			}
			if got.hwm < want {
				errs <- fmt.Errorf("the sidecar's high-water mark fell to %d after the holder wrote %d", got.hwm, want)
				return
			}
		}
	})
	<-done
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A sidecar write does not wait for ever on a process that holds the
// folder's lock and does not let go (stopped with Ctrl-Z during its own
// write): the gate's appends reserve sequences through it.
func TestSidecarWriteNotHeldByAStoppedProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.sidecar")
	unlock, held, err := lockFolder(dir)
	if err != nil || !held {
		t.Fatalf("lock: held %v, %v", held, err)
	}
	defer unlock()
	done := make(chan error, 1)
	go func() {
		s := sidecar{hwm: 7}
		done <- writeSidecar(path, &s)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the sidecar write is still waiting for the folder's lock")
	}
	if s, _, err := readSidecar(path); err != nil || s.hwm != 7 {
		t.Errorf("after the write: %+v, %v", s, err)
	}
}

var damageSeed = flag.Uint64("damageseed", 1, "seed of the random damage (0: from the clock)")

func newRand(t *testing.T) *mrand.Rand {
	seed := *damageSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("random seed %d (rerun with -damageseed=%d)", seed, seed)
	return mrand.New(mrand.NewPCG(seed, 0))
}

// TestRandomDamageNeverCrashes damages a healthy log in random ways (pages
// of random bytes, flipped bits, zeroed pages, truncation) and opens it:
// the open must never crash the process (bbolt alone can, on a damaged
// page), and must either recover or give a log that works.
func TestRandomDamageNeverCrashes(t *testing.T) {
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	priv, _, _ := makeLog(t, pristine)
	clean, err := os.ReadFile(pristine)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	// Damage pages in use (bbolt grows the file ahead of use with zeros).
	var used []int
	for pg := range len(clean) / ps {
		if bytes.ContainsFunc(clean[pg*ps:(pg+1)*ps], func(r rune) bool { return r != 0 }) {
			used = append(used, pg)
		}
	}
	rng := newRand(t)
	iterations := *damageRuns
	if testing.Short() || os.Getenv("CHECKPOINT_QEMU") == "1" {
		iterations = 30
	}
	var recovered, opened, carried, carriedOK int
	hub := seal.NewOpener(priv)
	for i := range iterations {
		b := bytes.Clone(clean)
		pg := used[rng.IntN(len(used))]
		page := b[pg*ps : (pg+1)*ps]
		switch rng.IntN(4) {
		case 0:
			copy(page, garbage(ps))
		case 1:
			for range 1 + rng.IntN(8) {
				page[rng.IntN(ps)] ^= 1 << rng.IntN(8)
			}
		case 2:
			clear(page)
		case 3:
			b = b[:pg*ps+rng.IntN(ps)]
		}
		path := filepath.Join(dir, "events.db")
		for _, m := range []string{path, sidecarPath(path)} {
			_ = os.Remove(m)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
		if err != nil {
			t.Fatalf("iteration %d (page %d): open: %v", i, pg, err)
		}
		if l.Recovery() != nil {
			recovered++
			// What was carried over from the damaged log is pending,
			// below the fresh log's sequences, and counted right.
			pend, err := l.Pending(0, 1<<20)
			st, serr := l.Stats()
			if err != nil || serr != nil || uint64(len(pend)) != st.Pending {
				t.Fatalf("iteration %d (page %d): %d pending (%v), stats %+v (%v)", i, pg, len(pend), err, st, serr)
			}
			for _, s := range pend {
				if s.Seq >= st.NextSeq {
					t.Fatalf("iteration %d (page %d): carried event %d at or past the next sequence %d", i, pg, s.Seq, st.NextSeq)
				}
				if _, err := hub.Open(s.Header, s.Seq, s.Box); err == nil {
					carriedOK++
				}
			}
			carried += len(pend)
		} else {
			opened++
			// Damage the check cannot see (bbolt has no data checksums)
			// may make an event unreadable for the hub, never the log
			// unusable.
			if _, err := l.Pending(0, 1000); err != nil {
				t.Logf("iteration %d (page %d): Pending: %v", i, pg, err)
			}
			_, _, _, _ = l.LastSeen("", []byte{1})
			if _, err := l.Append(&scanner.Event{Wall: recBase.Add(time.Hour).UnixNano(), Allow: true, PassID: []byte{1}}); err != nil {
				t.Logf("iteration %d (page %d): Append: %v", i, pg, err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		matches, _ := filepath.Glob(path + ".corrupt-*")
		for _, m := range matches {
			_ = os.Remove(m)
		}
	}
	t.Logf("%d damaged logs recovered, %d opened as they were; %d events carried over from the recovered, %d of them open at the hub", recovered, opened, carried, carriedOK)
}

// snapshot copies the log and its sidecar as a power cut would leave them
// (the log open in this process: what is written is what is on disk).
func snapshot(t *testing.T, path, to string) {
	t.Helper()
	for _, suffix := range []string{"", ".sidecar"} {
		if err := copyTo(to+suffix, path+suffix); err != nil {
			t.Fatal(err)
		}
	}
}

// An open refused with ErrLocked (`scanner status` or `scanner emergency`
// while the daemon holds the log, a second daemon start) must not leave a
// sidecar that hides the live log's reservations: the hwm on disk must stay
// at or above every committed sequence, or a recovery reuses sequences and
// leaves the events past the stale hwm behind.
func TestLockedOpenKeepsReservation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l, priv := newTestLog(t, path, LogOptions{})
	defer l.Close()
	appendN := func(n int) (last uint64) {
		for i := range n {
			ev := &scanner.Event{Wall: recBase.Add(time.Duration(i) * time.Millisecond).UnixNano(), Allow: true}
			seq, err := l.Append(ev)
			if err != nil {
				t.Fatal(err)
			}
			last = seq
		}
		return last
	}
	// The floor saved in the sidecar now, so that no append kicks the
	// floor saver (its timing would not matter, but makes runs alike).
	if err := l.RaiseTimeFloor(recBase); err != nil {
		t.Fatal(err)
	}
	appendN(10) // reserves 1..1024
	opt := LogOptions{Hub: priv.Public(), Logger: quietLog, LockTimeout: 20 * time.Millisecond}
	if _, err := OpenLog(path, opt); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	last := appendN(1100) // reserves 1025..2048 on the way
	side, _, err := readSidecar(sidecarPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if side.hwm < last {
		t.Errorf("sidecar hwm %d below the committed sequence %d", side.hwm, last)
	}
	// The impact: the power goes and the log is found damaged.
	cut := filepath.Join(dir, "cut.db")
	snapshot(t, path, cut)
	zeroMetas(t, cut)
	r, err := OpenLog(cut, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, _ := r.Stats()
	if st.NextSeq <= last {
		t.Errorf("fresh log starts at %d, reusing sequences up to %d", st.NextSeq, last)
	}
	if st.Pending < last {
		t.Errorf("%d events pending after the recovery, want all %d", st.Pending, last)
	}
}

// The sidecar lost (a log moved to a new card without it, a damaged
// sidecar), then an open that dies before it finishes (a power cut, the
// watchdog during a long check): that open rebuilt the sidecar with no
// high-water mark (what openFile writes first: the zero sidecar with one
// unfinished open), and it reads as found. When the log is then taken for
// damaged, the fresh log must still start past the damaged log's
// sequences and carry its pending events, as with the sidecar lost.
func TestRebuiltSidecarThenRecovery(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, path string){
		"meta pages zeroed": zeroMetas,
		"opens that never finished": func(t *testing.T, path string) {
			// Two more opens die the same way.
			markUnfinished(t, path)
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			priv, last, _ := makeLog(t, path)
			if err := os.Remove(sidecarPath(path)); err != nil {
				t.Fatal(err)
			}
			// What the open that died left: openFile's first write.
			side := sidecar{attempts: 1}
			if err := writeSidecar(sidecarPath(path), &side); err != nil {
				t.Fatal(err)
			}
			damage(t, path)
			l := openRecovered(t, path, priv)
			st, _ := l.Stats()
			if st.NextSeq <= last {
				t.Errorf("fresh log starts at %d, reusing sequences up to %d", st.NextSeq, last)
			}
			if want := last - 100; st.Pending != want {
				t.Errorf("%d events pending after the recovery, want the %d the hub never acknowledged", st.Pending, want)
			}
		})
	}
}
