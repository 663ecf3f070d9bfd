package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// bbolt settings shared by both files.
const (
	// initialMmapSize is small: a 32-bit ARM process has little address
	// space, and bbolt remaps as the file grows.
	initialMmapSize = 1 << 20
	// allocSize is how much bbolt grows a file past 1 MiB at a time (its
	// default is 16 MiB, too coarse for a small MaxSize).
	allocSize = 1 << 20
	// maxOpenAttempts is how many opens may begin and not finish (the
	// process died opening or checking the file, as on a file that crashes
	// bbolt) before the file is treated as corrupt.
	maxOpenAttempts = 3
	// maxProblems bounds the problems an integrity check reports.
	maxProblems = 8
	// defaultLockTimeout is how long Open waits for another process to
	// release the file.
	defaultLockTimeout = 5 * time.Second
)

// CheckResult is the outcome of the integrity check (bbolt's tx.Check plus
// the store's own schema checks) run when a file is opened.
type CheckResult struct {
	At       time.Time     // when the check ran (device clock, never below the time floor)
	Took     time.Duration // how long it took
	OK       bool          // whether the file passed
	Problems []string      // the first few problems found; empty when OK
}

// Recovery says that an open found the file damaged, moved it aside (it is
// never deleted) and started a fresh one.
type Recovery struct {
	At       time.Time // when (device clock)
	Aside    string    // where the damaged file is now
	Problems []string  // what the check found
	Carried  int       // events carried from it into the fresh event log (docs/store.md, "Salvage")
}

// corruptError says that a file's content is damaged.
type corruptError struct{ problems []string }

func (e *corruptError) Error() string {
	if len(e.problems) == 0 {
		return "file is damaged"
	}
	return "file is damaged: " + e.problems[0]
}

func corrupt(format string, args ...any) error {
	return &corruptError{problems: []string{fmt.Sprintf(format, args...)}}
}

// boltOptions are the options of every bbolt file the store opens. NoSync is
// never set: a commit is on disk when it returns.
func boltOptions(maxSize int, lockTimeout time.Duration) *bolt.Options {
	return &bolt.Options{
		Timeout:         lockTimeout,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: initialMmapSize,
		MaxSize:         maxSize,
	}
}

// openBolt opens path, runs the integrity check and validate. A damaged file
// gives a *corruptError; anything else (permissions, a lock held elsewhere,
// a newer schema) is returned as it is.
func openBolt(path string, opts *bolt.Options, validate func(*bolt.Tx) error) (db *bolt.DB, chk CheckResult, err error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				closeQuietly(db)
			}
			db = nil
			err = corrupt("bbolt panicked: %v", r)
		}
		chk.Took = time.Since(start)
		var ce *corruptError
		if errors.As(err, &ce) {
			chk.Problems = ce.problems
		}
		chk.OK = err == nil
	}()
	// A damaged page can point bbolt outside its mapping; make that a panic
	// (recovered above) instead of a crash, at least on this goroutine.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	// Walk the file's structure first: bbolt can crash on a damaged page
	// in a goroutine no recover reaches.
	if err := prewalk(path); err != nil {
		return nil, chk, err
	}
	db, err = bolt.Open(path, 0o600, opts)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, chk, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		if isEnvironmental(err) {
			return nil, chk, err
		}
		return nil, chk, &corruptError{problems: []string{err.Error()}}
	}
	db.AllocSize = allocSize
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if len(problems) < maxProblems {
				problems = append(problems, e.Error())
			}
		}
		if len(problems) > 0 {
			return nil
		}
		return validate(tx)
	})
	if err == nil && len(problems) > 0 {
		err = &corruptError{problems: problems}
	}
	if err != nil {
		closeQuietly(db)
		return nil, chk, err
	}
	return db, chk, nil
}

func closeQuietly(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// createAtomic creates a new bbolt file at path, initialised by init: it is
// built under a temporary name, synced, renamed into place, and the
// directory synced, so a crash leaves either no file or a complete one.
func createAtomic(path string, opts *bolt.Options, init func(*bolt.Tx) error) error {
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	db, err := bolt.Open(tmp, 0o600, opts)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = db.Update(init)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// asideName returns a free name "<path>.corrupt-<UTC time>" (with a
// counter if that exists) for a damaged file.
func asideName(path string, now time.Time) string {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			return aside
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
}

// moveAside renames a damaged file to aside and syncs the directory. It
// never deletes.
func moveAside(path, aside string) error {
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("move damaged file aside: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("move damaged file aside: %w", err)
	}
	return nil
}

// carryPath is the file that names, while a damaged file is being moved
// aside and the fresh one put in place, the damaged file the fresh one is
// to carry from ("<path>.carry", the name alone).
func carryPath(path string) string { return path + ".carry" }

// pendingAside returns the damaged file named by path's carry file, if
// the carry file and that file exist.
func pendingAside(path string) string {
	b, err := os.ReadFile(carryPath(path))
	if err != nil || len(b) == 0 || len(b) > 255 {
		return ""
	}
	aside := filepath.Join(filepath.Dir(path), filepath.Base(string(b)))
	if ok, _ := fileExists(aside); !ok {
		return ""
	}
	return aside
}

func fileExists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// openSpec says how to open one of the store's files.
type openSpec struct {
	path     string
	what     string // "event log" or "trust cache", for messages
	opts     *bolt.Options
	now      func() time.Time
	logger   *slog.Logger
	validate func(*bolt.Tx) error
	// init fills a fresh file. side is the sidecar as read (after a
	// recovery); salvaged is the next sequence read from a damaged file
	// whose sidecar was lost, or 0; aside is where the damaged file went,
	// or "".
	init func(tx *bolt.Tx, side sidecar, salvaged uint64, aside string) error
	// salvage, if set, reads what it can from a damaged file moved aside.
	salvage func(aside string) uint64
}

// opened is a file open and checked, with its sidecar.
type opened struct {
	db       *bolt.DB
	check    CheckResult
	recovery *Recovery
	side     sidecar
}

// openFile opens (or creates, or recovers) one of the store's files: it
// notes the attempt in the sidecar, opens and checks the file, moves a
// damaged one aside and starts a fresh one. The caller finishes the open
// (migrations, loading state) and then calls finishOpen.
func openFile(s openSpec) (*opened, error) {
	if err := checkFolderOwner(filepath.Dir(s.path)); err != nil {
		return nil, err
	}
	sp := sidecarPath(s.path)
	side, found, err := readSidecar(sp)
	if errors.Is(err, errSidecarCorrupt) {
		s.logger.Warn("store: sidecar is damaged; rebuilding it", "file", s.what, "sidecar", sp)
		side, found = sidecar{}, false
	} else if err != nil {
		return nil, err
	}
	exists, err := fileExists(s.path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.what, err)
	}
	// The file as examined: a damaged one is moved aside only if it is
	// still this one (another process may have recovered it meanwhile).
	var examined os.FileInfo
	if exists {
		if examined, err = os.Stat(s.path); err != nil {
			return nil, fmt.Errorf("open %s: %w", s.what, err)
		}
	}
	var problems []string
	if exists && side.attempts >= maxOpenAttempts {
		problems = []string{fmt.Sprintf("%d earlier opens did not finish (the process died opening or checking the file)", side.attempts)}
	}
	side.attempts++
	if err := writeSidecar(sp, &side); err != nil {
		return nil, fullOr(fmt.Errorf("open %s: %w", s.what, err))
	}
	// unlock releases the folder's lock, once taken (below); release
	// does so at most once.
	unlock := func() {}
	release := func() { unlock(); unlock = func() {} }
	defer release()
	abandon := func(err error) (*opened, error) {
		release() // writeSidecar takes it
		// Not a crash: do not count this attempt against the file.
		side.attempts--
		_ = writeSidecar(sp, &side)
		return nil, err
	}

	o := &opened{}
	if exists && problems == nil {
		db, chk, err := openBolt(s.path, s.opts, s.validate)
		o.check = chk
		var ce *corruptError
		switch {
		case err == nil:
			o.db = db
		case errors.As(err, &ce):
			problems = ce.problems
		default:
			return abandon(fmt.Errorf("open %s: %w", s.what, err))
		}
	}
	var salvaged uint64
	var aside string
	// Moving a damaged file aside and putting a fresh one in place is done
	// by one process at a time, under the folder's lock: two that found
	// the file damaged (or missing) would otherwise each put a fresh one
	// in place, the later over the other's, which goes on writing to a
	// file no longer under the name (or moved aside as damaged).
	if problems != nil || !exists {
		u, _, err := lockFolder(filepath.Dir(s.path))
		if err != nil {
			return abandon(fmt.Errorf("open %s: %w", s.what, err))
		}
		unlock = u
		fi, err := os.Stat(s.path)
		switch {
		case err == nil && !exists:
			// Created by another process meanwhile: open that one.
			release()
			exists = true
			db, chk, err := openBolt(s.path, s.opts, s.validate)
			if err != nil {
				return abandon(fmt.Errorf("open %s: %w", s.what, err))
			}
			o.db, o.check = db, chk
		case exists && (err != nil || !os.SameFile(fi, examined)):
			return abandon(fmt.Errorf("open %s: %w: %s was recovered by another process meanwhile", s.what, ErrLocked, s.path))
		case exists && fileHeld(s.path):
			// Open in another process (bbolt's lock): a fresh file it put
			// in place, whose open counts this process saw unfinished,
			// is not damaged.
			return abandon(fmt.Errorf("open %s: %w: %s is open in another process", s.what, ErrLocked, s.path))
		}
	}
	if problems != nil {
		now := s.now()
		aside = asideName(s.path, now)
		if s.salvage != nil {
			// Say where the damaged file goes before it goes: a crash
			// before the fresh file is in place must not leave the
			// next open with no file and no idea what to carry.
			if err := WriteFileAtomic(carryPath(s.path), []byte(filepath.Base(aside))); err != nil {
				return abandon(fullOr(fmt.Errorf("open %s: %w", s.what, err)))
			}
		}
		if err := moveAside(s.path, aside); err != nil {
			return abandon(fmt.Errorf("open %s: %w", s.what, err))
		}
		side.recoveries++
		o.recovery = &Recovery{At: now, Aside: aside, Problems: problems}
		s.logger.Error("store: file was damaged; moved it aside and started a fresh one",
			"file", s.what, "aside", aside, "problem", problems[0], "problems", len(problems), "recoveries", side.recoveries)
		// A sidecar with no high-water mark vouches for nothing: it was
		// rebuilt by an open that died before the file was loaded.
		if s.salvage != nil && (!found || side.hwm == 0) {
			salvaged = s.salvage(aside)
		}
		exists = false
	} else if !exists && s.salvage != nil {
		// No file, and the carry file names a damaged one: the process
		// died after moving it aside and before the fresh file was in
		// place. Take it up again; its sequences count even with a
		// sidecar (this open rewrote it, and it may have been lost).
		if aside = pendingAside(s.path); aside != "" {
			s.logger.Error("store: no file, but a damaged one moved aside for it; starting a fresh one that carries what it holds",
				"file", s.what, "aside", aside)
			salvaged = s.salvage(aside)
		}
	}
	if !exists {
		err := createAtomic(s.path, s.opts, func(tx *bolt.Tx) error { return s.init(tx, side, salvaged, aside) })
		if err != nil {
			return abandon(fullOr(fmt.Errorf("open %s: %w", s.what, err)))
		}
		// The folder's lock is let go once bbolt's lock on the fresh file
		// is held: another process then finds it open (fileHeld).
		db, chk, err := openBolt(s.path, s.opts, s.validate)
		release()
		if err != nil {
			return abandon(fmt.Errorf("open fresh %s: %w", s.what, err))
		}
		o.db = db
		if o.recovery == nil {
			o.check = chk
		} else {
			// Report what the check of the damaged file found.
			o.check.OK, o.check.Problems = false, problems
		}
	}
	if s.salvage != nil {
		// The fresh file in place holds the carry mark itself (and a
		// file that opened needs none): the carry file has done its
		// work. Left behind, it would make a later open with the file
		// removed carry the same damaged file again.
		if err := os.Remove(carryPath(s.path)); err == nil {
			_ = syncDir(filepath.Dir(s.path))
		}
	}
	o.check.At = s.now()
	o.side = side
	return o, nil
}

// fullOr marks err as ErrFull when it says the disk is full.
func fullOr(err error) error {
	if isFull(err) && !errors.Is(err, ErrFull) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}
