package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
)

// Salvage: what a damaged event log still holds is carried into the fresh
// one that replaces it.
//
// The damaged file is read with plain reads, as prewalk reads a file
// before bbolt may, but tolerantly: a page that fails a check (its id, its
// type, an element outside it, keys out of order or outside the bounds its
// parent gives) is skipped with everything below it, and the walk goes on.
// Both meta pages are tried, the newer first: bbolt writes every change to
// new pages, so the older meta's tree still holds what a damaged page of
// the newer one held, unless a later write reused its pages. Events keep
// their sequence and their sealed box, and their segment headers come
// along, so the hub opens them as if they had never left the first file
// (and stores each sequence once, should one ever reach it twice).
//
// The fresh log records in its meta bucket which file it carries from
// (keySalvage) before its first event is written; OpenLog carries and then
// deletes the mark, so a carry cut short by a crash goes on at the next
// open (given up after maxSalvageTries that put nothing in). A carry that
// fails otherwise ends with what it put in: docs/store.md says why.

var (
	keySalvage      = []byte("salvage")       // base name of the damaged file being carried over
	keySalvageTries = []byte("salvage.tries") // uint32: carries begun since the last that put events in
	keySalvageBelow = []byte("salvage.below") // uint64: events below this came from a damaged log
	keySalvageDone  = []byte("salvage.done")  // uint64: events of the damaged log looked at so far
)

// salvageBatch is how many events the carry puts in one transaction;
// carryHook, when set (by tests), runs as a carry begins ("begin") and
// after each transaction ("batch").
var (
	salvageBatch      = 1024
	salvageBatchBytes = 4 << 20 // and at most this many bytes of events
	carryHook         func(stage string)
)

const (
	maxSalvageTries = 3
	// maxSalvageSeq bounds the sequences read from a damaged file: a
	// damaged key must not push the fresh log's counter near its end. A
	// gate logging ten events a second reaches it in 900,000 years.
	maxSalvageSeq = 1 << 48
)

// leafRef is a leaf page of the damaged file's events bucket: its page id
// (or, for an inline bucket, its bytes) and the key bounds its parent gave.
type leafRef struct {
	pgid   uint64
	inline []byte
	lo, hi []byte
}

// rescue is what a walk of a damaged log found.
type rescue struct {
	file     *os.File // nil unless read from a file
	w        *walker
	next     uint64 // past the meta counter and every event read; 0: nothing read
	acked    uint64 // the meta's acknowledged-through, if ackedOK
	ackedOK  bool
	leaves   []leafRef // the events bucket's leaves, the newer tree's first
	segments map[uint64][]byte
	mark     string // the file the damaged log was still carrying from, if any
	floor    int64  // the newer meta's time floor (Unix ns), or 0
	latest   int64  // the latest device time of an event found (Unix s), or 0
	events   int    // events found (counting a sequence once per tree)
	skipped  int    // damaged pages skipped
}

// elem is one element of a page: a branch's key and child, or a leaf's
// key, value and flags.
type elem struct {
	k, v  []byte
	flags uint32
	child uint64
}

// rescueLog reads what it can of the damaged log at path: the trees of
// both meta pages, then every other page. It fails only when the file
// cannot be read at all. Close the file with Close.
func rescueLog(path string) (*rescue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := rescueFrom(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// rescueFrom reads what it can of a damaged log of size bytes in ra.
func rescueFrom(ra io.ReaderAt, size int64) (*rescue, error) {
	r, err := rescueTrees(ra, size)
	if err != nil {
		return nil, err
	}
	r.scan()
	return r, nil
}

// rescueTrees reads the trees of both meta pages, and not the other pages.
func rescueTrees(ra io.ReaderAt, size int64) (*rescue, error) {
	// A sound file is read a few times over (two trees, the scan, the
	// carry); a hostile one is stopped at 16 times its size.
	r := &rescue{w: &walker{f: ra, size: size, budget: 16*size + 1<<20}, segments: map[uint64][]byte{}}
	metas, err := r.metas()
	if err != nil {
		return nil, err
	}
	for i, m := range metas {
		if m.pageSize == 0 {
			continue // no meta page: only the scan below
		}
		r.w.hwm = min(m.pgid, uint64(r.w.size/r.w.pageSize))
		seen := map[uint64]bool{}
		r.tree(m.root, nil, 0, nil, nil, seen, func(_ leafRef, es []elem) {
			for _, e := range es {
				if e.flags&flagBucketLeaf == 0 || len(e.v) < 16 {
					continue
				}
				root, inline := ne.Uint64(e.v), r.inlineBucket(e.v)
				if root == 0 && inline == nil {
					continue
				}
				switch {
				case bytes.Equal(e.k, bucketMeta):
					r.tree(root, inline, 1, nil, nil, seen, func(_ leafRef, es []elem) { r.meta(es, i == 0) })
				case bytes.Equal(e.k, bucketEvents):
					r.tree(root, inline, 1, nil, nil, seen, r.eventLeaf)
				case bytes.Equal(e.k, bucketSegments):
					r.tree(root, inline, 1, nil, nil, seen, r.segmentLeaf)
				}
			}
		})
	}
	return r, nil
}

// maxOverflow is the most overflow pages a page of the log can have: a
// leaf holding four events of the largest size (bbolt never splits a node
// of four elements or fewer). Bigger claims are damage, and reading them
// would cost time and memory out of all proportion.
func (r *rescue) maxOverflow() uint64 {
	return uint64((pageHeaderSize+4*(elementSize+8+8+seal.MaxMessage+seal.MaxOverhead))/r.w.pageSize) + 1
}

// maxKey bounds a key in the buckets the rescue reads (bucket names, meta
// keys, sequences).
const maxKey = 64

// precheck checks the page pgid from a few small reads, before the page
// is read whole: its header, its element table, every element inside the
// page and every key in order. A damaged page claiming a long overflow
// costs about one page of reading, not the length it claims.
func (r *rescue) precheck(ref leafRef) (size int64, err error) {
	if ref.pgid < 2 || ref.pgid >= r.w.hwm {
		return 0, fmt.Errorf("page %d outside the file", ref.pgid)
	}
	off := int64(ref.pgid) * r.w.pageSize
	head, err := r.w.readAt(min(r.w.pageSize, r.w.size-off), off)
	if err != nil || len(head) < pageHeaderSize {
		return 0, fmt.Errorf("page %d: unreadable", ref.pgid)
	}
	overflow := uint64(ne.Uint32(head[12:]))
	flags, count := ne.Uint16(head[8:]), int64(ne.Uint16(head[10:]))
	if ne.Uint64(head) != ref.pgid || ref.pgid+overflow >= r.w.hwm || overflow > r.maxOverflow() || (flags != flagBranch && flags != flagLeaf) {
		return 0, fmt.Errorf("page %d: bad header", ref.pgid)
	}
	size = int64(overflow+1) * r.w.pageSize
	table := pageHeaderSize + count*elementSize
	if table > size {
		return 0, fmt.Errorf("page %d: %d elements do not fit", ref.pgid, count)
	}
	if table > int64(len(head)) {
		if head, err = r.w.readAt(table, off); err != nil {
			return 0, err
		}
	}
	prev := ref.lo
	for i := range int(count) {
		start, ksize, vsize, _, _ := element(head, flags, i)
		if ksize > maxKey || start+ksize+vsize > uint64(size) {
			return 0, fmt.Errorf("page %d: element %d outside the page", ref.pgid, i)
		}
		k := []byte(nil)
		if start+ksize <= uint64(len(head)) {
			k = head[start : start+ksize]
		} else if k, err = r.w.readAt(int64(ksize), off+int64(start)); err != nil {
			return 0, err
		}
		if !keyInOrder(i, prev, k, nil) {
			return 0, fmt.Errorf("page %d: keys out of order", ref.pgid)
		}
		prev = k
	}
	return size, nil
}

// inlineBucket returns the page of a bucket stored inside its parent's
// leaf (bbolt does so only below a quarter of a page), or nil.
func (r *rescue) inlineBucket(v []byte) []byte {
	if len(v) <= 16 || ne.Uint64(v) != 0 || int64(len(v)) > r.w.pageSize/4+16 {
		return nil
	}
	return v[16:]
}

func (r *rescue) Close() error {
	if r.file == nil {
		return nil
	}
	return r.file.Close()
}

// scan reads every page of the file and keeps those that read as a leaf of
// events or of segment headers and were not reached from a meta page: the
// tree above them may be damaged (a branch page, both meta pages), and a
// page freed by a later write may still hold an older copy of a leaf. The
// carry takes what the trees gave first, so a copy found here counts only
// for a sequence the trees did not give. Such a copy is mostly the event
// as committed; a commit that failed (a full disk, a torn write) may have
// left another sealing of the sequence, which does not open at the hub or
// is the event whose append failed. Events the hub already acknowledged
// may come back too; the hub stores each sequence once.
func (r *rescue) scan() {
	reached := map[uint64]bool{}
	for _, ref := range r.leaves {
		reached[ref.pgid] = true
	}
	r.w.hwm = uint64(r.w.size / r.w.pageSize)
	for pgid := uint64(2); pgid < r.w.hwm; pgid++ {
		if reached[pgid] {
			continue
		}
		hdr, err := r.w.readAt(pageHeaderSize, int64(pgid)*r.w.pageSize)
		if err != nil || ne.Uint64(hdr) != pgid || ne.Uint16(hdr[8:]) != flagLeaf || ne.Uint16(hdr[10:]) == 0 {
			continue
		}
		ref := leafRef{pgid: pgid}
		_, es, err := r.read(ref)
		if err != nil {
			continue
		}
		// The pages it overflows into are its own: read each once.
		pgid += uint64(ne.Uint32(hdr[12:]))
		events, segments := true, true
		for _, e := range es {
			events = events && isEvent(e.k, e.v, e.flags)
			segments = segments && isSegment(e.k, e.v, e.flags)
			// A small bucket lives inside its parent's leaf, as the
			// segment headers of a log with few events do.
			if in := (leafRef{inline: r.inlineBucket(e.v)}); e.flags&flagBucketLeaf != 0 && in.inline != nil {
				switch {
				case bytes.Equal(e.k, bucketEvents):
					if flags, es, err := r.read(in); err == nil && flags == flagLeaf {
						r.eventLeaf(in, es)
					}
				case bytes.Equal(e.k, bucketSegments):
					if flags, es, err := r.read(in); err == nil && flags == flagLeaf {
						r.segmentLeaf(in, es)
					}
				}
			}
		}
		switch {
		case events:
			r.eventLeaf(ref, es)
		case segments:
			r.segmentLeaf(ref, es)
		}
	}
}

// metas returns the valid meta pages, the newer first.
func (r *rescue) metas() ([]boltMeta, error) {
	var ms []boltMeta
	m0, err0 := r.w.readMeta(0)
	ps := int64(os.Getpagesize())
	if err0 == nil {
		ms, ps = append(ms, m0), int64(m0.pageSize)
	}
	if ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("page size %d", ps)
	}
	sizes := []int64{ps}
	if err0 != nil {
		// Meta 0 is gone: the page size is where meta 1 is found.
		sizes = []int64{ps, 4096, 8192, 16384, 65536}
	}
	for _, size := range sizes {
		if m1, err1 := r.w.readMeta(size); err1 == nil && int64(m1.pageSize) == size {
			ps = size
			if len(ms) == 1 && m1.txid > m0.txid {
				ms = []boltMeta{m1, m0}
			} else {
				ms = append(ms, m1)
			}
			break
		}
	}
	r.w.pageSize = ps
	if len(ms) == 0 {
		// No meta page: assume this machine's page size, as bbolt
		// would have, and leave it to the scan.
		return []boltMeta{{}}, nil
	}
	return ms, nil
}

// tree calls leaf for every leaf page below pgid (or the inline page)
// that passes the checks, in key order, skipping damaged pages.
func (r *rescue) tree(pgid uint64, inline []byte, depth int, lo, hi []byte, seen map[uint64]bool, leaf func(leafRef, []elem)) {
	if depth > maxDepth {
		r.skipped++
		return
	}
	ref := leafRef{pgid: pgid, inline: inline, lo: lo, hi: hi}
	if inline == nil {
		if seen[pgid] {
			r.skipped++
			return
		}
		seen[pgid] = true
	}
	flags, es, err := r.read(ref)
	if err != nil {
		r.skipped++
		return
	}
	if flags == flagLeaf {
		leaf(ref, es)
		return
	}
	for i, e := range es {
		childHi := hi
		if i+1 < len(es) {
			childHi = es[i+1].k
		}
		r.tree(e.child, nil, depth+1, e.k, childHi, seen, leaf)
	}
}

// read reads the page ref names and checks it: its id and type, every
// element inside it, keys in strict order within [lo, hi).
func (r *rescue) read(ref leafRef) (flags uint16, es []elem, err error) {
	buf := ref.inline
	if buf == nil {
		size, err := r.precheck(ref)
		if err != nil {
			return 0, nil, err
		}
		if buf, err = r.w.readAt(size, int64(ref.pgid)*r.w.pageSize); err != nil {
			return 0, nil, err
		}
	}
	if len(buf) < pageHeaderSize {
		return 0, nil, errors.New("short page")
	}
	flags, count := ne.Uint16(buf[8:]), int(ne.Uint16(buf[10:]))
	if flags != flagBranch && flags != flagLeaf || pageHeaderSize+count*elementSize > len(buf) {
		return 0, nil, errors.New("bad page")
	}
	prev := ref.lo
	for i := range count {
		var e elem
		start, ksize, vsize, eflags, child := element(buf, flags, i)
		if start+ksize+vsize > uint64(len(buf)) {
			return 0, nil, errors.New("element outside its page")
		}
		e.k, e.v, e.flags, e.child = buf[start:start+ksize], buf[start+ksize:start+ksize+vsize], eflags, child
		if !keyInOrder(i, prev, e.k, ref.hi) {
			return 0, nil, errors.New("keys out of order")
		}
		prev = e.k
		es = append(es, e)
	}
	if flags == flagBranch && count == 0 {
		return 0, nil, errors.New("empty branch")
	}
	return flags, es, nil
}

// meta reads the counter and the acknowledgement; the newer tree's values
// win.
func (r *rescue) meta(es []elem, newer bool) {
	for _, e := range es {
		if newer && bytes.Equal(e.k, keySalvage) && e.flags&flagBucketLeaf == 0 && len(e.v) > 0 && len(e.v) < 256 {
			// The damaged log was itself still carrying from another.
			r.mark = string(e.v)
		}
		if len(e.v) != 8 || e.flags&flagBucketLeaf != 0 {
			continue
		}
		if newer && bytes.Equal(e.k, keyFloor) {
			r.floor = getI64(e.v)
		}
		switch {
		case bytes.Equal(e.k, keyNext) && binary.BigEndian.Uint64(e.v) <= maxSalvageSeq:
			r.next = max(r.next, binary.BigEndian.Uint64(e.v))
		case bytes.Equal(e.k, keyAcked) && (newer || !r.ackedOK):
			r.acked, r.ackedOK = binary.BigEndian.Uint64(e.v), true
		}
	}
}

// isEvent says whether k, v look like an event: a sequence, the device
// time and a box of the shape seal makes.
func isEvent(k, v []byte, flags uint32) bool {
	box := len(v) - 8
	return len(k) == 8 && binary.BigEndian.Uint64(k) < maxSalvageSeq && flags&flagBucketLeaf == 0 &&
		box >= seal.TagSize+seal.PadBlock && box <= seal.MaxMessage+seal.MaxOverhead && (box-seal.TagSize)%seal.PadBlock == 0
}

func (r *rescue) eventLeaf(ref leafRef, es []elem) {
	n := 0
	for _, e := range es {
		if isEvent(e.k, e.v, e.flags) {
			r.next = max(r.next, binary.BigEndian.Uint64(e.k)+1)
			r.latest = max(r.latest, getI64(e.v))
			n++
		}
	}
	if n > 0 {
		ref.inline, ref.lo, ref.hi = bytes.Clone(ref.inline), bytes.Clone(ref.lo), bytes.Clone(ref.hi)
		r.leaves = append(r.leaves, ref)
		r.events += n
	}
}

// isSegment says whether k, v look like a segment header.
func isSegment(k, v []byte, flags uint32) bool {
	return len(k) == 8 && flags&flagBucketLeaf == 0 && len(v) == seal.HeaderSize && v[0] == seal.Version
}

func (r *rescue) segmentLeaf(_ leafRef, es []elem) {
	for _, e := range es {
		if isSegment(e.k, e.v, e.flags) {
			if seq := binary.BigEndian.Uint64(e.k); r.segments[seq] == nil {
				r.segments[seq] = bytes.Clone(e.v)
			}
		}
	}
}

// salvageNext reads the next sequence of a damaged log, as far as it can:
// past the counter in its meta bucket and every event it still holds. It
// is used when the sidecar cannot say it (lost, or rewritten by an open
// that found no log).
func salvageNext(aside string) uint64 {
	r, err := rescueLog(aside)
	if err != nil {
		return 0
	}
	defer r.Close()
	return r.next
}

// carry copies into the fresh log the events of the damaged log its meta
// names (keySalvage) that the hub had not acknowledged, with their segment
// headers, and deletes the mark. Events keep their sequences, all below the
// fresh log's first (keySalvageBelow); each batch moves the log's
// acknowledgement down to just below its events in the same transaction,
// so they are pending as soon as they are in. When the damaged log was
// itself still carrying from another, that one is carried next. It runs
// in OpenLog once the log is loaded, and returns how many events it put in.
func (l *Log) carry() (total int, err error) {
	marked := false
	defer func() {
		if !marked {
			return
		}
		// A log in use must not keep a mark: a later open would take
		// the carry up again after the hub acknowledged new events.
		// Only a crash leaves one, for the next open to finish.
		if derr := l.setMark("", 0, true); derr != nil {
			l.markLive = true
			if err == nil {
				err = derr
			}
		}
		// The carry moved the acknowledgement down and may have raised
		// the time floor: the log's own copies follow.
		rerr := l.db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			acked, err := metaU64(meta, keyAcked)
			if err != nil {
				return err
			}
			floor, err := metaI64(meta, keyFloor)
			if err != nil {
				return err
			}
			l.acked = acked
			l.floor.Store(max(l.floor.Load(), floor))
			return nil
		})
		if err == nil {
			err = rerr
		}
	}()
	for hop := 0; hop < 4; hop++ {
		var name string
		var tries uint32
		var below, done uint64
		if err := l.db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			name = string(meta.Get(keySalvage))
			if v := meta.Get(keySalvageTries); len(v) == 4 {
				tries = binary.BigEndian.Uint32(v)
			}
			if v := meta.Get(keySalvageBelow); len(v) == 8 {
				below = binary.BigEndian.Uint64(v)
			}
			if v := meta.Get(keySalvageDone); len(v) == 8 {
				done = binary.BigEndian.Uint64(v)
			}
			return nil
		}); err != nil || name == "" {
			return total, err
		}
		marked = true
		aside := filepath.Join(filepath.Dir(l.path), filepath.Base(name))
		if tries >= maxSalvageTries || below == 0 {
			l.lg.Error("store: gave up carrying events over from a damaged log; it is kept as it was",
				"aside", aside, "tries", tries)
			return total, nil // the deferred call deletes the mark
		}
		// Count the try before it begins: a carry that crashes the
		// process is not tried for ever.
		if err := l.setMark(name, tries+1, false); err != nil {
			return total, err
		}
		if carryHook != nil {
			carryHook("begin")
		}
		r, err := rescueLog(aside)
		if err != nil {
			l.lg.Error("store: nothing could be read from the damaged log", "aside", aside, "err", err)
			return total, nil
		}
		n, err := l.carryFrom(r, below, done)
		r.Close()
		total += n
		if err != nil {
			// Not a crash (a full disk, an I/O error). The log is about
			// to be used, and a carry must not stay unfinished while
			// the hub acknowledges new events past the carried ones:
			// what is in stays, the rest stays in the damaged file
			// (OpenLog logs it).
			return total, fmt.Errorf("%d events carried from %s, then: %w", n, aside, err)
		}
		l.lg.Error("store: carried the events a damaged log still held into the fresh one",
			"aside", aside, "events", n, "found", r.events, "segments", len(r.segments), "damaged pages skipped", r.skipped)
		if r.mark == "" || filepath.Base(r.mark) == filepath.Base(name) {
			return total, nil
		}
		if err := l.setMark(r.mark, 0, true); err != nil {
			return total, err
		}
	}
	l.lg.Error("store: damaged logs carried one from another too many times; the rest stay as they are")
	return total, nil
}

// salvageFloor returns the time floor (Unix ns) a damaged log vouches
// for, or 0. Its meta's floor and its latest event's device time are
// plain bytes, unchecked: a flipped bit could put the floor centuries
// ahead and stop the gate. So a value counts only when the sidecar's floor
// (checksummed, at most ten minutes behind) is within an hour below it,
// or, with the sidecar lost, when the two agree within an hour.
func salvageFloor(r *rescue, side int64) int64 {
	const slack = int64(time.Hour)
	latest := int64(0)
	if r.latest > 0 && r.latest < math.MaxInt64/int64(time.Second) {
		latest = r.latest * int64(time.Second)
	}
	if side > 0 {
		floor := int64(0)
		for _, c := range []int64{r.floor, latest} {
			if c > side && c <= side+slack {
				floor = max(floor, c)
			}
		}
		return floor
	}
	if r.floor > 0 && latest > 0 && max(r.floor, latest)-min(r.floor, latest) <= slack {
		return min(r.floor, latest)
	}
	return 0
}

// setMark sets the carry mark to name with tries, or deletes it; with
// another file to begin (fresh), nothing of it is looked at yet.
func (l *Log) setMark(name string, tries uint32, fresh bool) error {
	return fullOr(l.update(l.hard, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if name == "" {
			return deleteMark(meta)
		}
		if fresh {
			if err := meta.Delete(keySalvageDone); err != nil {
				return err
			}
		}
		if err := meta.Put(keySalvage, []byte(name)); err != nil {
			return err
		}
		return meta.Put(keySalvageTries, u32(tries))
	}))
}

// deleteMark deletes the carry mark from the meta bucket.
func deleteMark(meta *bolt.Bucket) error {
	for _, k := range [][]byte{keySalvage, keySalvageTries, keySalvageDone} {
		if err := meta.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// carryFrom copies what r found into the log: the segment headers below
// below, then the events after r's acknowledgement and below below, in
// batches, packed as Append packs them and within MaxSize. It skips the
// first done of those events: a carry cut short by a crash put them in
// already (reading the same file, unchanged, gives them in the same
// order).
func (l *Log) carryFrom(r *rescue, below, done uint64) (int, error) {
	from := uint64(0)
	if r.ackedOK {
		from = r.acked
	}
	// Segment headers first: every carried event needs its own. An event
	// with no header at or below it cannot be opened by anyone and would
	// leave the log with an event it cannot send; it stays behind. (An
	// event whose own header was lost gets the one before it, and does
	// not open at the hub.)
	firstSeg := uint64(math.MaxUint64)
	floor := salvageFloor(r, l.side.floor)
	err := l.update(l.soft, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		old, err := metaI64(meta, keyFloor)
		if err != nil {
			return err
		}
		if floor > old {
			if err := meta.Put(keyFloor, i64(floor)); err != nil {
				return err
			}
		}
		segs := tx.Bucket(bucketSegments)
		segs.FillPercent = 1.0
		for seq, hdr := range r.segments {
			if seq < below {
				if err := segs.Put(u64(seq), hdr); err != nil {
					return err
				}
				firstSeg = min(firstSeg, seq)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fullOr(fmt.Errorf("carry over segment headers: %w", err))
	}
	carried, seen := 0, uint64(0)
	var batch []elem
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		put := 0
		err := l.update(l.soft, func(tx *bolt.Tx) error {
			put = 0
			events := tx.Bucket(bucketEvents)
			events.FillPercent = 1.0
			lowest := uint64(math.MaxUint64)
			for _, e := range batch {
				// What came first stays: the newer tree's copy, or
				// what a carry cut short put in already.
				if events.Get(e.k) == nil {
					if err := events.Put(e.k, e.v); err != nil {
						return err
					}
					put++
				}
				lowest = min(lowest, binary.BigEndian.Uint64(e.k))
			}
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(keySalvageDone, u64(seen)); err != nil {
				return err
			}
			// Progress: only carries that crash before any count
			// toward giving up.
			if err := meta.Put(keySalvageTries, u32(1)); err != nil {
				return err
			}
			acked, err := metaU64(meta, keyAcked)
			if err != nil || acked < lowest {
				return err
			}
			return meta.Put(keyAcked, u64(lowest-1))
		})
		if err != nil {
			return fullOr(fmt.Errorf("carry over events: %w", err))
		}
		carried += put
		batch, batchBytes = batch[:0], 0
		if carryHook != nil {
			carryHook("batch")
		}
		return nil
	}
	for _, ref := range r.leaves {
		flags, es, err := r.read(ref)
		if err != nil || flags != flagLeaf {
			continue
		}
		for _, e := range es {
			seq := binary.BigEndian.Uint64(e.k)
			if !isEvent(e.k, e.v, e.flags) || seq <= from || seq >= below || seq < firstSeg {
				continue
			}
			if seen++; seen <= done {
				continue
			}
			batch = append(batch, elem{k: bytes.Clone(e.k), v: bytes.Clone(e.v)})
			batchBytes += len(e.v)
			if len(batch) >= salvageBatch || batchBytes >= salvageBatchBytes {
				if err := flush(); err != nil {
					return carried, err
				}
			}
		}
	}
	return carried, flush()
}
