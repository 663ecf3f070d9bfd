package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"os"
)

// prewalk checks the structure of a bbolt file before bbolt opens it.
//
// bbolt trusts its pages: opening a file whose free list is not synced (as
// ours, NoFreelistSync) walks the whole tree in a goroutine of its own, and
// a damaged page there panics where no recover can catch it. So before
// bbolt sees a file, prewalk reads it with plain ReadAt calls, picks the meta
// page bbolt would pick, and walks every page reachable from the root
// bucket, checking what bbolt would otherwise assume: page ids match their
// place, page types are branch or leaf, every element, key, value and
// inline bucket lies inside its page, every child is below the high-water
// mark, and no page is reached twice. What it finds is a *corruptError. The
// finer checks (key order, free pages) are left to tx.Check, which runs
// next, once bbolt can no longer crash on the file.
//
// The on-disk format is bbolt's (version 2): a 16-byte page header (id
// uint64, flags uint16, count uint16, overflow uint32), 16-byte branch
// elements (pos, ksize uint32, pgid uint64) and leaf elements (flags, pos,
// ksize, vsize uint32), in the machine's byte order.
func prewalk(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	w := &walker{f: f, size: fi.Size()}
	return w.walk()
}

const (
	pageHeaderSize = 16
	elementSize    = 16
	metaSize       = 64 // through the checksum
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
	flagBranch     = 0x01
	flagLeaf       = 0x02
	flagMeta       = 0x04
	flagBucketLeaf = 0x01
	maxDepth       = 64
)

var ne = binary.NativeEndian

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

type walker struct {
	f        io.ReaderAt
	size     int64
	read     int64 // bytes read so far
	budget   int64 // if > 0, reads past this many bytes fail
	pageSize int64
	hwm      uint64
	seen     []uint64 // bitset of pages reached
}

func (w *walker) readAt(n, off int64) ([]byte, error) {
	if off < 0 || n < 0 || off+n > w.size {
		return nil, corrupt("read of %d bytes at %d past the end of the file (%d bytes)", n, off, w.size)
	}
	if w.budget > 0 && w.read+n > w.budget {
		return nil, corrupt("read budget of %d bytes spent", w.budget)
	}
	b := make([]byte, n)
	w.read += n
	if _, err := w.f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// readMeta reads and validates the meta page at off.
func (w *walker) readMeta(off int64) (boltMeta, error) {
	b, err := w.readAt(pageHeaderSize+metaSize, off)
	if err != nil {
		return boltMeta{}, err
	}
	if ne.Uint16(b[8:]) != flagMeta {
		return boltMeta{}, errors.New("not a meta page")
	}
	m := b[pageHeaderSize:]
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("bad magic")
	}
	if ne.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, errors.New("bad version")
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return boltMeta{}, errors.New("bad checksum")
	}
	return boltMeta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}, nil
}

func (w *walker) walk() error {
	if w.size < 2*1024 {
		return corrupt("file of %d bytes is too small", w.size)
	}
	m0, err0 := w.readMeta(0)
	ps := int64(os.Getpagesize())
	if err0 == nil {
		ps = int64(m0.pageSize)
	}
	if ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0 {
		return corrupt("page size %d", ps)
	}
	m1, err1 := w.readMeta(ps)
	var m boltMeta
	switch {
	case err0 == nil && err1 == nil:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case err0 == nil:
		m = m0
	case err1 == nil:
		m = m1
	default:
		return corrupt("no valid meta page (%v; %v)", err0, err1)
	}
	if int64(m.pageSize) != ps {
		return corrupt("meta pages disagree on the page size")
	}
	w.pageSize = ps
	w.hwm = m.pgid
	if w.hwm < 3 || int64(w.hwm) > w.size/ps {
		return corrupt("high-water mark %d pages, file has %d", w.hwm, w.size/ps)
	}
	if m.freelist != noFreelist && m.freelist >= w.hwm {
		return corrupt("free list page %d past the high-water mark %d", m.freelist, w.hwm)
	}
	w.seen = make([]uint64, (w.hwm+63)/64)
	_, err := w.page(m.root, 0, nil, nil)
	return err
}

// page checks the page (with its overflow) pgid and everything below it.
// Its keys must lie in [lo, hi) (nil: unbounded). It returns the greatest
// key below it.
func (w *walker) page(pgid uint64, depth int, lo, hi []byte) ([]byte, error) {
	if depth > maxDepth {
		return nil, corrupt("tree deeper than %d", maxDepth)
	}
	if pgid < 2 || pgid >= w.hwm {
		return nil, corrupt("page %d outside [2, %d)", pgid, w.hwm)
	}
	hdr, err := w.readAt(pageHeaderSize, int64(pgid)*w.pageSize)
	if err != nil {
		return nil, err
	}
	if id := ne.Uint64(hdr); id != pgid {
		return nil, corrupt("page %d says it is page %d", pgid, id)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if pgid+overflow >= w.hwm {
		return nil, corrupt("page %d overflows past the high-water mark", pgid)
	}
	for p := pgid; p <= pgid+overflow; p++ {
		if w.seen[p/64]&(1<<(p%64)) != 0 {
			return nil, corrupt("page %d reached twice", p)
		}
		w.seen[p/64] |= 1 << (p % 64)
	}
	buf, err := w.readAt(int64(overflow+1)*w.pageSize, int64(pgid)*w.pageSize)
	if err != nil {
		return nil, err
	}
	return w.node(buf, pgid, depth, lo, hi)
}

// element reads entry i of the element table of a page with the given
// flags (the table must be in page): where the element's key starts,
// counted from the page's start, the key and value sizes (no value for a
// branch), a leaf element's flags and a branch element's child.
func element(page []byte, flags uint16, i int) (start, ksize, vsize uint64, eflags uint32, child uint64) {
	at := pageHeaderSize + i*elementSize
	e := page[at:]
	if flags == flagBranch {
		return uint64(at) + uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:])), 0, 0, ne.Uint64(e[8:])
	}
	return uint64(at) + uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:])), ne.Uint32(e[0:]), 0
}

// keyInOrder says whether k, the key of element i, comes after prev (the
// key before it, or the lower bound from above for the first) and before
// hi (nil: unbounded). Exactly as bbolt's check: a nil prev compares as an
// empty key, and bounds only the first key when it came from above.
func keyInOrder(i int, prev, k, hi []byte) bool {
	c := bytes.Compare(prev, k)
	return !((i == 0 && prev != nil && c > 0) || (i > 0 && c >= 0) || (hi != nil && bytes.Compare(k, hi) >= 0))
}

// node checks one branch or leaf page held in buf (a page read from the
// file, or an inline bucket's page), as bbolt's own check would: elements
// inside the page, keys in strict order within [lo, hi), children of a
// branch between its keys. It returns the greatest key below it.
func (w *walker) node(buf []byte, pgid uint64, depth int, lo, hi []byte) ([]byte, error) {
	if len(buf) < pageHeaderSize {
		return nil, corrupt("page %d: %d bytes", pgid, len(buf))
	}
	flags, count := ne.Uint16(buf[8:]), int(ne.Uint16(buf[10:]))
	if pageHeaderSize+count*elementSize > len(buf) {
		return nil, corrupt("page %d: %d elements do not fit", pgid, count)
	}
	// key returns element i's key, and its value for a leaf.
	key := func(i int) (k, v []byte, eflags uint32, err error) {
		start, ksize, vsize, eflags, _ := element(buf, flags, i)
		if start+ksize+vsize > uint64(len(buf)) {
			return nil, nil, 0, corrupt("page %d: element %d outside the page", pgid, i)
		}
		return buf[start : start+ksize], buf[start+ksize : start+ksize+vsize], eflags, nil
	}
	// bbolt lays out the elements' keys and values after the element
	// table, one after another in element order. Elements that overlap
	// (two sharing one value) are damage, and a hostile file could make
	// the inline buckets below them be walked over and over: 2^depth
	// times for two elements a level sharing one nested bucket.
	end := uint64(pageHeaderSize + count*elementSize)
	inOrder := func(i int, k, prev []byte) error {
		if !keyInOrder(i, prev, k, hi) {
			return corrupt("page %d: key %d out of order", pgid, i)
		}
		start, ksize, vsize, _, _ := element(buf, flags, i)
		if start < end {
			return corrupt("page %d: element %d overlaps the one before it", pgid, i)
		}
		end = start + ksize + vsize
		return nil
	}
	switch flags {
	case flagBranch:
		if count == 0 {
			return nil, corrupt("page %d: empty branch", pgid)
		}
		prev := lo
		var maxKey []byte
		for i := range count {
			k, _, _, err := key(i)
			if err != nil {
				return nil, err
			}
			if err := inOrder(i, k, prev); err != nil {
				return nil, err
			}
			childHi := hi
			if i+1 < count {
				if childHi, _, _, err = key(i + 1); err != nil {
					return nil, err
				}
			}
			at := pageHeaderSize + i*elementSize
			if maxKey, err = w.page(ne.Uint64(buf[at+8:]), depth+1, k, childHi); err != nil {
				return nil, err
			}
			prev = maxKey
		}
		return maxKey, nil
	case flagLeaf:
		prev := lo
		for i := range count {
			k, v, eflags, err := key(i)
			if err != nil {
				return nil, err
			}
			if err := inOrder(i, k, prev); err != nil {
				return nil, err
			}
			prev = k
			if eflags&flagBucketLeaf == 0 {
				continue
			}
			// A bucket: its own tree, with keys of its own.
			if len(v) < 16 {
				return nil, corrupt("page %d: bucket value of %d bytes", pgid, len(v))
			}
			if root := ne.Uint64(v); root != 0 {
				_, err = w.page(root, depth+1, nil, nil)
			} else {
				_, err = w.node(v[16:], pgid, depth+1, nil, nil)
			}
			if err != nil {
				return nil, err
			}
		}
		if count > 0 {
			return prev, nil
		}
		return nil, nil
	default:
		return nil, corrupt("page %d: type %#x where a branch or leaf belongs", pgid, flags)
	}
}
