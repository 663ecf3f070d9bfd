package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// A sidecar is a small file beside a bbolt file ("<path>.sidecar") that
// outlives it: when a damaged file is moved aside, the sidecar stays, so the
// fresh file can go on where the old one left off.
//
// The file is 1024 bytes: two 48-byte slots, at offsets 0 and 512 (so in
// different disk sectors). Each write goes to the slot after the last one,
// in place, with a higher generation, and is fsynced; a reader takes the
// valid slot with the higher generation. A torn write thus loses at most
// the write itself, and, since writes happen in place, they need no free
// space on the file system (the log must be able to reserve sequences on a
// full disk once Ack freed pages in it). The file itself is created
// atomically (temp file, fsync, rename, fsync the directory).
//
// Slot layout (big-endian): the magic "CPSIDE" 0x00 0x02, the generation
// (uint64), the sequence high-water mark (uint64), the time floor (Unix ns,
// int64), the number of recoveries (uint64), the number of opens begun and
// not finished (uint32), and a CRC-32C (Castagnoli) of the 44 bytes before
// it.
type sidecar struct {
	gen        uint64 // generation of the slot this was read from or written to
	hwm        uint64 // every sequence ever committed is <= hwm
	floor      int64  // a time floor, Unix ns (may lag the log's own)
	recoveries uint64 // damaged files moved aside, over the device's life
	attempts   uint32 // opens begun and not finished
}

const (
	sidecarMagic    = "CPSIDE\x00\x02"
	sidecarSlotSize = 8 + 8 + 8 + 8 + 8 + 4 + 4
	sidecarSlotStep = 512
	sidecarFileSize = 2 * sidecarSlotStep
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

func sidecarPath(path string) string { return path + ".sidecar" }

func (s sidecar) encodeSlot() []byte {
	b := make([]byte, 0, sidecarSlotSize)
	b = append(b, sidecarMagic...)
	b = binary.BigEndian.AppendUint64(b, s.gen)
	b = binary.BigEndian.AppendUint64(b, s.hwm)
	b = binary.BigEndian.AppendUint64(b, uint64(s.floor))
	b = binary.BigEndian.AppendUint64(b, s.recoveries)
	b = binary.BigEndian.AppendUint32(b, s.attempts)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}

func decodeSlot(b []byte) (sidecar, bool) {
	if len(b) < sidecarSlotSize || string(b[:8]) != sidecarMagic {
		return sidecar{}, false
	}
	b = b[:sidecarSlotSize]
	if crc32.Checksum(b[:sidecarSlotSize-4], crc32c) != binary.BigEndian.Uint32(b[sidecarSlotSize-4:]) {
		return sidecar{}, false
	}
	return sidecar{
		gen:        binary.BigEndian.Uint64(b[8:]),
		hwm:        binary.BigEndian.Uint64(b[16:]),
		floor:      int64(binary.BigEndian.Uint64(b[24:])),
		recoveries: binary.BigEndian.Uint64(b[32:]),
		attempts:   binary.BigEndian.Uint32(b[40:]),
	}, true
}

// encodeFile returns a whole sidecar file holding s in its slot.
func (s sidecar) encodeFile() []byte {
	b := make([]byte, sidecarFileSize)
	copy(b[(s.gen%2)*sidecarSlotStep:], s.encodeSlot())
	return b
}

var errSidecarCorrupt = errors.New("sidecar is damaged")

// decodeSidecar picks the valid slot with the higher generation.
func decodeSidecar(b []byte) (sidecar, error) {
	if len(b) != sidecarFileSize {
		return sidecar{}, errSidecarCorrupt
	}
	// Even generations live in slot 0, odd ones in slot 1.
	s0, ok0 := decodeSlot(b[:sidecarSlotStep])
	s1, ok1 := decodeSlot(b[sidecarSlotStep:])
	ok0 = ok0 && s0.gen%2 == 0
	ok1 = ok1 && s1.gen%2 == 1
	switch {
	case ok0 && ok1 && s1.gen > s0.gen, !ok0 && ok1:
		return s1, nil
	case ok0:
		return s0, nil
	}
	return sidecar{}, errSidecarCorrupt
}

// readSidecar reads the sidecar at path. A missing file gives the zero
// sidecar and found=false; a damaged one gives errSidecarCorrupt.
func readSidecar(path string) (s sidecar, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sidecar{}, false, nil
	}
	if err != nil {
		return sidecar{}, false, fmt.Errorf("read sidecar: %w", err)
	}
	s, err = decodeSidecar(b)
	return s, err == nil, err
}

// writeSidecar stores s with the next generation (s.gen is updated): in
// place, in the slot after the last one, when the file exists whole;
// otherwise it creates the file atomically.
func writeSidecar(path string, s *sidecar) error {
	// Another process may write the file too (an open refused with
	// ErrLocked while this one holds the log writes it twice). The
	// folder's lock makes each read, merge and write one step; without
	// it, two writers that read the same generation write the same slot,
	// and the later one's stale copy hides the other's reservation.
	// A process that holds it for longer than a write takes (one stopped
	// with Ctrl-Z) is not waited for: the write goes on unlocked.
	unlock, _, err := lockFolder(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write sidecar: %w", err)
	}
	defer unlock()
	next := *s
	// Go on past the generation on disk, which another process may have
	// written since s was read, so that this write is the one a reader
	// takes, and never lower what only rises.
	if b, err := os.ReadFile(path); err == nil {
		if d, err := decodeSidecar(b); err == nil {
			next.gen = max(next.gen, d.gen)
			next.hwm = max(next.hwm, d.hwm)
			next.floor = max(next.floor, d.floor)
			next.recoveries = max(next.recoveries, d.recoveries)
		}
	}
	next.gen++
	err = writeSlot(path, next)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errSidecarCorrupt) {
		err = WriteFileAtomic(path, next.encodeFile())
	}
	if err != nil {
		return fmt.Errorf("write sidecar: %w", err)
	}
	*s = next
	return nil
}

func writeSlot(path string, s sidecar) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if fi.Size() != sidecarFileSize {
		return errSidecarCorrupt
	}
	if _, err := f.WriteAt(s.encodeSlot(), int64(s.gen%2)*sidecarSlotStep); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// WriteFileAtomic replaces path with data (mode 0600), atomically and
// durably: a temp file "<path>.tmp" in the same directory, fsync, rename
// over path, fsync the directory. After a crash path holds the old data or
// the new, never a part; the fixed temp name means crashes leave at most
// one stray file, replaced by the next write. The store keeps its sidecars
// this way; the scanner keeps its emergency switch this way.
//
// It returns an error wrapping ErrForeignFolder when run as root on a
// folder another user owns.
func WriteFileAtomic(path string, data []byte) error {
	if err := checkFolderOwner(filepath.Dir(path)); err != nil {
		return err
	}
	// The temp file is always a new one: whatever is at its name (a
	// stray from a crash, a link) is removed, not written through.
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory, so that a rename or a new file in it is
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
