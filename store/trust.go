package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Document kinds the gate keeps. Other kinds are accepted too.
const (
	KindKeySet = "keyset"
	KindStatus = "status"
	KindPolicy = "policy"
)

// Bounds on trust documents.
const (
	MaxKindLen = 64
	MaxNameLen = 512
	MaxDocSize = 16 << 20
)

// Trust is the trust cache: the signed trust documents (key sets, status
// lists, policies) as the hub sent them, stored as opaque bytes; the
// scanner package parses and verifies them. It can be rebuilt by a full
// download, so a damaged cache is moved aside and started empty. Its
// methods are safe for concurrent use.
type Trust struct {
	path string
	opt  TrustOptions
	db   *bolt.DB
	soft int
	hard int
	lg   *slog.Logger

	mu       sync.Mutex // serialises writes; guards the fields below
	closed   bool
	side     sidecar
	check    CheckResult
	recovery *Recovery
}

// OpenTrust opens the trust cache at path, creating it (atomically) if it
// does not exist, and checks it. A damaged cache, or one written by a newer
// build, is moved aside to "<path>.corrupt-<time>" and an empty one
// started; Recovery then says so and it is logged at error level. The
// caller should then fetch full documents from the hub.
//
// OpenTrust returns ErrLocked when another process has the file open,
// ErrFull when there is no room to create it, and other errors for I/O.
func OpenTrust(path string, opt TrustOptions) (*Trust, error) {
	opt = opt.withDefaults()
	t := &Trust{
		path: path,
		opt:  opt,
		soft: opt.MaxSize,
		hard: opt.MaxSize + headroom(opt.MaxSize),
		lg:   opt.Logger,
	}
	o, err := openFile(openSpec{
		path:     path,
		what:     "trust cache",
		opts:     boltOptions(t.hard, opt.LockTimeout),
		now:      opt.Now,
		logger:   opt.Logger,
		validate: validateTrust,
		init:     initTrust(opt.Now),
	})
	if err != nil {
		return nil, err
	}
	t.db, t.check, t.recovery, t.side = o.db, o.check, o.recovery, o.side
	t.db.MaxSize = t.soft
	t.side.attempts = 0
	if err := writeSidecar(sidecarPath(path), &t.side); err != nil {
		closeQuietly(t.db)
		return nil, fullOr(fmt.Errorf("open trust cache: %w", err))
	}
	return t, nil
}

func validateTrust(tx *bolt.Tx) error {
	v, err := readSchema(tx)
	if err != nil {
		return err
	}
	if v != TrustSchema {
		// The cache is rebuildable: a schema this build does not know is
		// treated like damage.
		return corrupt("trust cache has schema %d, this build knows %d", v, TrustSchema)
	}
	docs := tx.Bucket(bucketDocs)
	if docs == nil {
		return corrupt("no %q bucket", bucketDocs)
	}
	return docs.ForEach(func(kind, v []byte) error {
		if v != nil || docs.Bucket(kind) == nil {
			return corrupt("docs: %q is not a bucket", kind)
		}
		return docs.Bucket(kind).ForEach(func(name, v []byte) error {
			if len(v) < 8 {
				return corrupt("doc %s/%s: %d bytes", kind, name, len(v))
			}
			return nil
		})
	})
}

func initTrust(now func() time.Time) func(*bolt.Tx, sidecar, uint64, string) error {
	return func(tx *bolt.Tx, _ sidecar, _ uint64, _ string) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, u32(TrustSchema)); err != nil {
			return err
		}
		if err := meta.Put(keyCreated, i64(now().UnixNano())); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketDocs)
		return err
	}
}

func checkKindName(kind, name string) error {
	if kind == "" || len(kind) > MaxKindLen {
		return fmt.Errorf("document kind %q: want 1 to %d bytes", kind, MaxKindLen)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("document name of %d bytes: want at most %d", len(name), MaxNameLen)
	}
	return nil
}

// docKey is the key of a document within its kind's bucket; bbolt needs a
// non-empty key, and a name may be empty.
func docKey(name string) []byte { return append([]byte{'n'}, name...) }

// PutDoc stores a document as raw bytes, replacing any held under the same
// kind and name, and commits before it returns. It does not parse or
// verify: the caller does, before storing. It returns ErrFull (wrapped)
// when the cache is full, ErrClosed after Close, and other errors for
// I/O and bad arguments.
func (t *Trust) PutDoc(kind, name string, raw []byte) error {
	if err := checkKindName(kind, name); err != nil {
		return fmt.Errorf("put document: %w", err)
	}
	if len(raw) == 0 || len(raw) > MaxDocSize {
		return fmt.Errorf("put document %s/%s: %d bytes, want 1 to %d", kind, name, len(raw), MaxDocSize)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	v := make([]byte, 0, 8+len(raw))
	v = append(append(v, i64(t.opt.Now().UnixNano())...), raw...)
	err := t.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketDocs).CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		return b.Put(docKey(name), v)
	})
	if err != nil {
		return fullOr(fmt.Errorf("put document %s/%s: %w", kind, name, mapClosed(err)))
	}
	return nil
}

// DeleteDoc deletes a document; deleting one not held does nothing. It
// works on a full cache. It returns ErrClosed after Close and other errors
// for I/O.
func (t *Trust) DeleteDoc(kind, name string) error {
	if err := checkKindName(kind, name); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.db.MaxSize = t.hard
	defer func() { t.db.MaxSize = t.soft }()
	err := t.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocs).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		return b.Delete(docKey(name))
	})
	if err != nil {
		return fullOr(fmt.Errorf("delete document %s/%s: %w", kind, name, mapClosed(err)))
	}
	return nil
}

// Doc returns a copy of the document stored under kind and name. It
// returns ErrNotFound when there is none, and ErrClosed after Close.
func (t *Trust) Doc(kind, name string) ([]byte, error) {
	var out []byte
	err := t.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketDocs).Bucket([]byte(kind)); b != nil {
			if v := b.Get(docKey(name)); len(v) >= 8 {
				out = bytes.Clone(v[8:])
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapClosed(err)
	}
	if out == nil {
		return nil, fmt.Errorf("document %s/%s: %w", kind, name, ErrNotFound)
	}
	return out, nil
}

// Docs returns copies of every document of a kind, by name; an empty map
// when there are none. It returns ErrClosed after Close.
func (t *Trust) Docs(kind string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := t.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocs).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) >= 1 && len(v) >= 8 {
				out[string(k[1:])] = bytes.Clone(v[8:])
			}
			return nil
		})
	})
	if err != nil {
		return nil, mapClosed(err)
	}
	return out, nil
}

// Recovery returns what this open found and did when the cache was
// damaged, or nil when it was not.
func (t *Trust) Recovery() *Recovery {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.recovery
}

// Close closes the cache. Later calls return ErrClosed.
func (t *Trust) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.closed = true
	return t.db.Close()
}

// Path returns the cache's file path.
func (t *Trust) Path() string { return t.path }

// DocStat describes one stored document. The caller parses the document
// itself for its version.
type DocStat struct {
	Kind    string
	Name    string
	Size    int       // bytes
	Written time.Time // when PutDoc stored it (device clock)
}

// TrustStats describes the trust cache for `scanner status`.
type TrustStats struct {
	Path       string
	FileSize   int64
	MaxSize    int
	Schema     int
	Docs       []DocStat // by kind, then name
	LastCheck  CheckResult
	Recoveries uint64    // damaged caches moved aside, over the device's life
	Recovery   *Recovery // set when this open moved a damaged cache aside
}

// Stats returns the cache's statistics. It returns ErrClosed after Close.
func (t *Trust) Stats() (TrustStats, error) {
	t.mu.Lock()
	s := TrustStats{
		Path:       t.path,
		MaxSize:    t.soft,
		Schema:     TrustSchema,
		LastCheck:  t.check,
		Recoveries: t.side.recoveries,
		Recovery:   t.recovery,
	}
	t.mu.Unlock()
	if fi, err := os.Stat(t.path); err == nil {
		s.FileSize = fi.Size()
	}
	err := t.db.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bucketDocs)
		return docs.ForEachBucket(func(kind []byte) error {
			return docs.Bucket(kind).ForEach(func(k, v []byte) error {
				if len(k) < 1 || len(v) < 8 {
					return nil
				}
				s.Docs = append(s.Docs, DocStat{
					Kind:    string(kind),
					Name:    string(k[1:]),
					Size:    len(v) - 8,
					Written: time.Unix(0, getI64(v)).UTC(),
				})
				return nil
			})
		})
	})
	sort.SliceStable(s.Docs, func(i, j int) bool {
		if s.Docs[i].Kind != s.Docs[j].Kind {
			return s.Docs[i].Kind < s.Docs[j].Kind
		}
		return s.Docs[i].Name < s.Docs[j].Name
	})
	return s, mapClosed(err)
}
