package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"

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
// deletes the mark, so a carry cut short by a crash is done again at the
// next open, at most maxSalvageTries times.

var (
	keySalvage      = []byte("salvage")       // base name of the damaged file being carried over
	keySalvageTries = []byte("salvage.tries") // uint32: carries begun
	keySalvageBelow = []byte("salvage.below") // uint64: events below this came from a damaged log
)

const (
	maxSalvageTries = 3
	salvageBatch    = 1024 // events per transaction
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
	events   int // events found (counting a sequence once per tree)
	skipped  int // damaged pages skipped
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
	r := &rescue{w: &walker{f: ra, size: size}, segments: map[uint64][]byte{}}
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
				root, inline := ne.Uint64(e.v), []byte(nil)
				if root == 0 {
					inline = e.v[16:]
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
	r.scan()
	return r, nil
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
// page freed by a later write may still hold an older copy of a leaf. An
// event is sealed once under its sequence, so every copy of it is the
// same; at worst, events the hub already acknowledged come back, and the
// hub stores each sequence once.
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
		events, segments := true, true
		for _, e := range es {
			events = events && isEvent(e.k, e.v, e.flags)
			segments = segments && isSegment(e.k, e.v, e.flags)
			// A small bucket lives inside its parent's leaf, as the
			// segment headers of a log with few events do.
			if e.flags&flagBucketLeaf != 0 && len(e.v) > 16 && ne.Uint64(e.v) == 0 {
				in := leafRef{inline: e.v[16:]}
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
		if ref.pgid < 2 || ref.pgid >= r.w.hwm {
			return 0, nil, fmt.Errorf("page %d outside the file", ref.pgid)
		}
		hdr, err := r.w.readAt(pageHeaderSize, int64(ref.pgid)*r.w.pageSize)
		if err != nil {
			return 0, nil, err
		}
		overflow := uint64(ne.Uint32(hdr[12:]))
		if ne.Uint64(hdr) != ref.pgid || ref.pgid+overflow >= r.w.hwm {
			return 0, nil, fmt.Errorf("page %d: bad header", ref.pgid)
		}
		if buf, err = r.w.readAt(int64(overflow+1)*r.w.pageSize, int64(ref.pgid)*r.w.pageSize); err != nil {
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
		at := pageHeaderSize + i*elementSize
		b := buf[at:]
		var e elem
		var pos, ksize, vsize uint64
		if flags == flagBranch {
			pos, ksize, e.child = uint64(ne.Uint32(b[0:])), uint64(ne.Uint32(b[4:])), ne.Uint64(b[8:])
		} else {
			e.flags, pos, ksize, vsize = ne.Uint32(b[0:]), uint64(ne.Uint32(b[4:])), uint64(ne.Uint32(b[8:])), uint64(ne.Uint32(b[12:]))
		}
		start := uint64(at) + pos
		if start+ksize+vsize > uint64(len(buf)) {
			return 0, nil, errors.New("element outside its page")
		}
		e.k, e.v = buf[start:start+ksize], buf[start+ksize:start+ksize+vsize]
		c := bytes.Compare(prev, e.k)
		if (i == 0 && prev != nil && c > 0) || (i > 0 && c >= 0) || (ref.hi != nil && bytes.Compare(e.k, ref.hi) >= 0) {
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
		if len(e.v) != 8 || e.flags&flagBucketLeaf != 0 {
			continue
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
// is used only when the sidecar was lost too.
func salvageNext(aside string) uint64 {
	r, err := rescueLog(aside)
	if err != nil {
		return 0
	}
	defer r.Close()
	return r.next
}

// carryOver copies the events of the damaged log the fresh log's meta
// names (keySalvage) that the hub had not acknowledged, with their segment
// headers, into the fresh log db, and deletes the mark. Events keep their
// sequences, all below the fresh log's first; they become pending, and the
// fresh log's acknowledgement moves down to just below them. It returns the
// number of events carried.
func carryOver(db *bolt.DB, path string, lg *slog.Logger) (int, error) {
	var name string
	if err := db.View(func(tx *bolt.Tx) error {
		name = string(tx.Bucket(bucketMeta).Get(keySalvage))
		return nil
	}); err != nil || name == "" {
		return 0, err
	}
	var tries uint32
	var below uint64
	err := db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySalvageTries); len(v) == 4 {
			tries = binary.BigEndian.Uint32(v)
		}
		if tries >= maxSalvageTries {
			return nil
		}
		var err error
		if below, err = metaU64(meta, keySalvageBelow); err != nil {
			return err
		}
		return meta.Put(keySalvageTries, u32(tries+1))
	})
	if err != nil {
		return 0, fullOr(err)
	}
	aside := filepath.Join(filepath.Dir(path), name)
	if tries >= maxSalvageTries {
		lg.Error("store: gave up carrying events over from a damaged log; it is kept as it was",
			"aside", aside, "tries", tries)
		return 0, clearSalvage(db, false, 0)
	}
	r, err := rescueLog(aside)
	if err != nil {
		lg.Error("store: nothing could be read from the damaged log", "aside", aside, "err", err)
		return 0, clearSalvage(db, false, 0)
	}
	defer r.Close()
	from := uint64(0)
	if r.ackedOK {
		from = r.acked
	}
	// Segment headers first: every carried event needs its own. An event
	// with no header at or below it cannot be opened by anyone, and would
	// leave the log with an event it cannot send; it stays behind.
	firstSeg := uint64(math.MaxUint64)
	err = db.Update(func(tx *bolt.Tx) error {
		segs := tx.Bucket(bucketSegments)
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
	carried, lowest := 0, below
	var batch []elem
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.Update(func(tx *bolt.Tx) error {
			events := tx.Bucket(bucketEvents)
			for _, e := range batch {
				// The newer tree's copy came first and stays; a carry
				// cut short may have put it already.
				if events.Get(e.k) == nil {
					if err := events.Put(e.k, e.v); err != nil {
						return err
					}
					carried++
				}
				lowest = min(lowest, binary.BigEndian.Uint64(e.k))
			}
			return nil
		})
		batch = batch[:0]
		return err
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
			batch = append(batch, elem{k: bytes.Clone(e.k), v: bytes.Clone(e.v)})
			if len(batch) == salvageBatch {
				if err := flush(); err != nil {
					return carried, fullOr(fmt.Errorf("carry over events: %w", err))
				}
			}
		}
	}
	if err := flush(); err != nil {
		return carried, fullOr(fmt.Errorf("carry over events: %w", err))
	}
	if err := clearSalvage(db, lowest < below, lowest-1); err != nil {
		return carried, err
	}
	lg.Error("store: carried the events a damaged log still held into the fresh one",
		"aside", aside, "events", carried, "found", r.events, "segments", len(r.segments), "damaged pages skipped", r.skipped)
	return carried, nil
}

// clearSalvage deletes the mark; when events were carried, it also moves
// the acknowledgement down to acked, just below the lowest of them, so
// that they are pending.
func clearSalvage(db *bolt.DB, carried bool, acked uint64) error {
	err := db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for _, k := range [][]byte{keySalvage, keySalvageTries} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		if !carried {
			return nil
		}
		old, err := metaU64(meta, keyAcked)
		if err != nil {
			return err
		}
		return meta.Put(keyAcked, u64(min(old, acked)))
	})
	return fullOr(err)
}
