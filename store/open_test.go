package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
)

// nestedInline returns the value of an inline bucket holding, levels
// deep, a leaf of two elements whose values are the same inline bucket
// one level down (keys in order, elements inside the page: every check
// prewalk makes passes). A walk that follows every element visits 2^levels
// pages, all inside one 4 KiB page of the file.
func nestedInline(levels int) []byte {
	v := make([]byte, 32) // bucket header (root 0) and an empty leaf page
	ne.PutUint16(v[16+8:], flagLeaf)
	for range levels {
		const data = pageHeaderSize + 2*elementSize // keys start here
		p := make([]byte, data+2+len(v))
		ne.PutUint16(p[8:], flagLeaf)
		ne.PutUint16(p[10:], 2)
		// Element 0: key p[data+1:data+2] = {1}; element 1: key
		// p[data:data+2] = {2, 1}. Both values start at data+2.
		e0, e1 := p[pageHeaderSize:], p[pageHeaderSize+elementSize:]
		ne.PutUint32(e0[0:], flagBucketLeaf)
		ne.PutUint32(e0[4:], uint32(data+1-pageHeaderSize))
		ne.PutUint32(e0[8:], 1)
		ne.PutUint32(e0[12:], uint32(len(v)))
		ne.PutUint32(e1[0:], flagBucketLeaf)
		ne.PutUint32(e1[4:], uint32(data-pageHeaderSize-elementSize))
		ne.PutUint32(e1[8:], 2)
		ne.PutUint32(e1[12:], uint32(len(v)))
		p[data], p[data+1] = 2, 1
		copy(p[data+2:], v)
		v = append(make([]byte, 16), p...) // inline bucket: header, then the page
	}
	return v
}

// A hostile file whose root leaf holds inline buckets nested within one
// page, each level's two elements sharing one value, would make a walk
// that follows every element (prewalk, the check every open runs before
// bbolt sees the file) visit 2^levels pages: 60 levels fit in a 4 KiB
// page. Overlapping elements are damage: the file is moved aside.
func TestPrewalkNestedInlineBuckets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	l, priv := newTestLog(t, path, LogOptions{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{f: f, size: 1 << 30}
	m, err := w.readMeta(0)
	if m1, err1 := w.readMeta(int64(m.pageSize)); err1 == nil && (err != nil || m1.txid > m.txid) {
		m, err = m1, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	ps := int(m.pageSize)
	val := nestedInline(60)
	// The root leaf: one bucket "x" holding the nested inline buckets.
	page := make([]byte, ps)
	ne.PutUint64(page, m.root)
	ne.PutUint16(page[8:], flagLeaf)
	ne.PutUint16(page[10:], 1)
	ne.PutUint32(page[16:], flagBucketLeaf)
	ne.PutUint32(page[20:], elementSize)
	ne.PutUint32(page[24:], 1)
	ne.PutUint32(page[28:], uint32(len(val)))
	page[pageHeaderSize+elementSize] = 'x'
	if pageHeaderSize+elementSize+1+len(val) > ps {
		t.Fatalf("value of %d bytes does not fit a page", len(val))
	}
	copy(page[pageHeaderSize+elementSize+1:], val)
	if _, err := f.WriteAt(page, int64(m.root)*int64(ps)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	done := make(chan error, 1)
	go func() {
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
		if err == nil && l.Recovery() == nil {
			err = errors.New("the hostile file was opened as sound")
		}
		if err == nil {
			l.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("OpenLog of a 1 MiB hostile file still running after 20 s (prewalk follows every inline bucket, shared values 2^60 times)")
	}
}

// A schema-1 log whose gate state holds an entry of the wrong size (a
// damaged value, which the structural checks cannot see) still migrates
// and opens: the entry is dropped, as a damaged value costs one entry of
// gate state. (A damage error from the migration would fail this open and
// every one after it.)
func TestMigrationOfDamagedLogRecovers(t *testing.T) {
	priv := testHubKey(t)
	path := filepath.Join(t.TempDir(), "events.db")
	copyFile(t, "testdata/log-v1.db", path)
	editLog(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPasses).Put(bytes.Repeat([]byte{7}, 32), []byte{1, 2, 3})
	})
	for i := range 2 {
		l, err := OpenLog(path, LogOptions{Hub: priv.Public(), StateHorizon: 365 * 24 * time.Hour, Logger: quietLog})
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		// Its events are still there to send, in the log itself or
		// carried into a fresh one.
		if st, err := l.Stats(); err != nil || st.Pending == 0 {
			t.Errorf("open %d: stats %+v, %v: no pending events", i+1, st, err)
		}
		l.Close()
	}
}

// Two processes that open a log that does not exist yet (a daemon's first
// start and `scanner status` beside it, or both after a crash left only
// a carry file) create it one at a time, under the folder's lock: the
// second opens the first's file. Unlocked, each built a fresh file under
// the same temp name and renamed it into place, and the one whose file
// was renamed over wrote to an unlinked file: every event it reported as
// logged was gone once it closed.
func TestTwoOpensOfAMissingLog(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	opt := LogOptions{Hub: priv.Public(), Logger: quietLog, LockTimeout: 50 * time.Millisecond}
	for i := range 100 {
		path := filepath.Join(t.TempDir(), "events.db")
		errs, logged, pending := openTwiceAndAppend(t, path, opt, recBase)
		if pending != len(logged) {
			t.Fatalf("round %d: opens gave %v, %v; events %v reported as logged, %d in the log", i, errs[0], errs[1], logged, pending)
		}
	}
}

// Two processes that open a log taken for damaged (here: its last opens
// never finished) recover it one at a time, under the folder's lock; the
// second finds the file recovered and does not move the first's fresh
// log aside as damaged (its appends would have gone into a file named
// .corrupt-*: logged, and never sent).
func TestTwoOpensOfADamagedLog(t *testing.T) {
	for i := range 10 {
		path := filepath.Join(t.TempDir(), "events.db")
		priv, _, _ := makeLog(t, path) // 200 events pending
		markUnfinished(t, path)
		opt := LogOptions{Hub: priv.Public(), Logger: quietLog, LockTimeout: 50 * time.Millisecond}
		errs, logged, pending := openTwiceAndAppend(t, path, opt, recBase.Add(time.Hour))
		if pending != 200+len(logged) {
			t.Fatalf("round %d: opens gave %v, %v; events %v reported as logged; %d pending, want %d", i, errs[0], errs[1], logged, pending, 200+len(logged))
		}
	}
}

// openTwiceAndAppend opens the log at path twice at once (openTwice),
// appends one event at wall to each log that opened, closes them, and
// returns the opens' errors, the sequences reported as logged, and how
// many events are pending when the log is opened again.
func openTwiceAndAppend(t *testing.T, path string, opt LogOptions, wall time.Time) (errs [2]error, logged []uint64, pending int) {
	t.Helper()
	ls, errs := openTwice(path, opt)
	for j, l := range ls {
		if errs[j] != nil {
			continue
		}
		seq, err := l.Append(&scanner.Event{Wall: wall.UnixNano(), Allow: true, PassID: []byte{byte(j)}})
		if err != nil {
			t.Fatal(err)
		}
		logged = append(logged, seq)
	}
	for _, l := range ls {
		if l != nil {
			l.Close()
		}
	}
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := l.Pending(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return errs, logged, len(p)
}

// openTwice opens the log at path from two goroutines at once, as two
// processes would (bbolt's lock and the folder's are per open file).
func openTwice(path string, opt LogOptions) (ls [2]*Log, errs [2]error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for j := range 2 {
		wg.Go(func() {
			<-start
			ls[j], errs[j] = OpenLog(path, opt)
		})
	}
	close(start)
	wg.Wait()
	return ls, errs
}
