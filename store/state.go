package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/blake2b"
)

// Gate state is keyed by BLAKE2b-256 keyed with the log's hash key (32
// random bytes made with the log), over a domain byte, the issuer's name
// with its length, and the ID, so the file holds no pass or household ID.
// An ID is an issuer's own: two issuers' passes, or households, with one
// ID are two.
const (
	hashSize = 32

	domainPass      = 'P'
	domainHousehold = 'H'
	// The domains of schema 2 and before: the ID alone, without its
	// issuer. Only a migrated log's lookups use them (meta/unscoped).
	domainPassUnscoped      = 'p'
	domainHouseholdUnscoped = 'h'

	passValueSize = 1 + 8 // direction || wall
)

// stateKey is the key of the gate state of the pass (domainPass) or the
// household (domainHousehold) with this ID from this issuer.
func (l *Log) stateKey(domain byte, issuer string, id []byte) []byte {
	var n [binary.MaxVarintLen64]byte
	return l.hash(domain, n[:binary.PutUvarint(n[:], uint64(len(issuer)))], []byte(issuer), id)
}

// unscopedKey is the key schema 2 gave the state of the pass or household
// with this ID, whatever its issuer.
func (l *Log) unscopedKey(domain byte, id []byte) []byte { return l.hash(domain, id) }

// latestStateStamp returns the latest stamp of the gate state, from the
// expiry indexes; found is false when there is none.
func latestStateStamp(tx *bolt.Tx) (latest int64, found bool) {
	latest = math.MinInt64
	for _, b := range [][]byte{bucketPassExp, bucketExitExp} {
		if k, _ := tx.Bucket(b).Cursor().Last(); len(k) >= 8 {
			latest, found = max(latest, getI64(k)), true
		}
	}
	return latest, found
}

// noUnscoped: the log holds no gate state from schema 2 (Log.unscoped).
const noUnscoped = math.MinInt64

// unscopedInSight reports whether gate state kept from schema 2 may still
// lie within the state horizon, so that lookups must count it too; once
// the floor is a horizon past its latest stamp, they no longer look.
func (l *Log) unscopedInSight() bool {
	t := l.unscoped.Load()
	return t != noUnscoped && t >= l.floor.Load()-int64(l.opt.StateHorizon)
}

func (l *Log) hash(domain byte, parts ...[]byte) []byte {
	h, err := blake2b.New256(l.hashKey[:])
	if err != nil {
		panic("store: blake2b: " + err.Error()) // only for a key over 64 bytes
	}
	h.Write([]byte{domain})
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(make([]byte, 0, hashSize+16))
}

// setLastSeen records that the pass hashed to h passed in dir at wall.
func setLastSeen(tx *bolt.Tx, h []byte, dir scanner.Direction, wall int64) error {
	passes, exp := tx.Bucket(bucketPasses), tx.Bucket(bucketPassExp)
	if old := passes.Get(h); len(old) == passValueSize {
		if err := exp.Delete(append(old[1:9:9], h...)); err != nil {
			return err
		}
	}
	v := append([]byte{byte(dir)}, i64(wall)...)
	if err := passes.Put(h, v); err != nil {
		return err
	}
	return exp.Put(append(i64(wall), h...), nil)
}

// markAfter returns meta/untrusted as it is to be after ev: just below
// the stamp of the first event stamped under an untrusted clock since the
// last one stamped at trusted time, in whatever run; unmarked after an
// event at trusted time. ShiftState moves the state from the mark. An
// event at trusted time clears it: the gate commits nothing at trusted
// time before the state stamped before it moved, and when trusted time
// needed no move, the stamps were already no earlier than their passages.
// The caller holds l.mu.
func (l *Log) markAfter(ev *scanner.Event) (mark int64, marked bool) {
	switch {
	case ev.WallTrusted:
		return 0, false
	case l.marked:
		return l.untrusted, true
	case ev.Wall > math.MinInt64:
		return ev.Wall - 1, true
	}
	return 0, false
}

// addExit records an exit of the household hashed to h at wall.
func addExit(tx *bolt.Tx, h []byte, wall int64, seq uint64) error {
	k := make([]byte, 0, hashSize+16)
	k = append(append(append(k, h...), i64(wall)...), u64(seq)...)
	if err := tx.Bucket(bucketExits).Put(k, nil); err != nil {
		return err
	}
	e := make([]byte, 0, hashSize+16)
	e = append(append(append(e, i64(wall)...), h...), u64(seq)...)
	return tx.Bucket(bucketExitExp).Put(e, nil)
}

// removeExit deletes the exit of the household hashed to h that the event
// with sequence seq recorded, if it has one.
func removeExit(tx *bolt.Tx, h []byte, seq uint64) error {
	c := tx.Bucket(bucketExits).Cursor()
	for k, _ := c.Seek(h); k != nil && bytes.HasPrefix(k, h); k, _ = c.Next() {
		if len(k) == hashSize+16 && binary.BigEndian.Uint64(k[hashSize+8:]) == seq {
			e := make([]byte, 0, len(k))
			return dropExit(tx, append(append(append(e, k[hashSize:hashSize+8]...), h...), k[hashSize+8:]...))
		}
	}
	return nil
}

// expireState deletes gate state older than cutoff (Unix ns), at most limit
// entries of each kind, and returns how many it deleted. Bounding the work
// keeps an append after a long quiet spell as fast as any other.
func expireState(tx *bolt.Tx, cutoff int64, limit int) (int, error) {
	n := 0
	for _, k := range oldKeys(tx.Bucket(bucketPassExp), cutoff, limit) {
		if _, _, err := dropPass(tx, k); err != nil {
			return n, err
		}
		n++
	}
	for _, k := range oldKeys(tx.Bucket(bucketExitExp), cutoff, limit) {
		if err := dropExit(tx, k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// dropPass deletes the pass state that expiry key k (wall || hash) indexes,
// if it is still the pass's latest, and k itself. It returns the entry's
// direction, and whether there was one.
func dropPass(tx *bolt.Tx, k []byte) (dir scanner.Direction, ok bool, err error) {
	passes := tx.Bucket(bucketPasses)
	if len(k) == 8+hashSize {
		h := k[8:]
		if v := passes.Get(h); len(v) == passValueSize && bytes.Equal(v[1:9], k[:8]) {
			dir, ok = scanner.Direction(v[0]), true
			if err := passes.Delete(h); err != nil {
				return 0, false, err
			}
		}
	}
	return dir, ok, tx.Bucket(bucketPassExp).Delete(k)
}

// dropExit deletes the household exit that expiry key k (wall || hash ||
// seq) indexes, and k itself.
func dropExit(tx *bolt.Tx, k []byte) error {
	if len(k) == 8+hashSize+8 {
		x := make([]byte, 0, len(k))
		x = append(append(append(x, k[8:8+hashSize]...), k[:8]...), k[8+hashSize:]...)
		if err := tx.Bucket(bucketExits).Delete(x); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketExitExp).Delete(k)
}

// oldKeys returns copies of up to limit keys of an expiry index (keys begin
// with an encoded time) older than cutoff.
func oldKeys(b *bolt.Bucket, cutoff int64, limit int) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
		if len(k) >= 8 && getI64(k) >= cutoff {
			break
		}
		// (A key too short to hold a time is damage: it goes too.)
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// ShiftState moves the gate state stamped after from and at or before to
// forward by d. A gate that decided under an untrusted clock stamped its
// passages with the time floor, a lower bound; once trusted time shows the
// floor was d behind, the passages of that span are d later than stamped,
// and must count as recent for anti-passback and quotas (and not expire
// with the old floor). Events themselves keep what they recorded.
//
// The span starts earlier when the log holds state stamped untrusted since
// its last event at trusted time (markAfter): passages of an earlier run
// that stopped before trusted time came, or before its gate moved them.
// They happened before this run's span, so d moves them to at most the
// time they could have happened, never earlier than they did. Until an
// event at trusted time clears the mark, every shift moves them all
// again: each move (a build time, then trusted time) says how much later
// than their stamps they happened. A shift to trusted time (trusted) is
// the last they need: it clears the mark in its own transaction, as such
// an event would, so that a power cut before the next commit does not
// leave them to be moved again by the next run's shift.
//
// It raises the time floor to to+d, a time the shift shows has passed, in
// the same transaction: the state it moved lies at or below the floor, so
// a next run's shifts still reach it even when the gate's commit after
// this one fails, or the power goes first. It returns how many entries
// moved, and ErrClosed after Close.
func (l *Log) ShiftState(from, to time.Time, d time.Duration, trusted bool) (int, error) {
	if d <= 0 {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	lo, hi, by := from.UnixNano(), to.UnixNano(), int64(d)
	if l.marked {
		lo = min(lo, l.untrusted)
	}
	top := hi + by
	if top < hi { // overflow: raise the floor no further than known
		top = hi
	}
	// With nothing stamped in the span, the floor still rises (to the
	// build time a clock starts at, before any read), and the mark stays.
	empty := lo >= hi
	if empty {
		if top <= l.floor.Load() {
			return 0, nil
		}
		lo = hi
	}
	n := 0
	settle := trusted && l.marked && !empty
	// State from schema 2 in the span moves too. The entries in
	// (lo, min(unscoped, hi)] move: the latest may now be one of them.
	unscoped := l.unscoped.Load()
	if unscoped != noUnscoped && unscoped > lo && !empty {
		u := min(unscoped, hi) + by
		if u < min(unscoped, hi) { // overflow
			u = math.MaxInt64
		}
		unscoped = max(unscoped, u)
	}
	err := l.update(l.hard, func(tx *bolt.Tx) error {
		n = 0
		if top > l.floor.Load() {
			if err := tx.Bucket(bucketMeta).Put(keyFloor, i64(top)); err != nil {
				return err
			}
		}
		if settle {
			if err := tx.Bucket(bucketMeta).Delete(keyUntrusted); err != nil {
				return err
			}
		}
		if unscoped != l.unscoped.Load() {
			if err := tx.Bucket(bucketMeta).Put(keyUnscoped, i64(unscoped)); err != nil {
				return err
			}
		}
		for _, k := range spanKeys(tx.Bucket(bucketPassExp), lo, hi) {
			dir, ok, err := dropPass(tx, k)
			if err != nil {
				return err
			}
			if ok { // a stale index key just goes
				if err := setLastSeen(tx, k[8:], dir, getI64(k)+by); err != nil {
					return err
				}
				n++
			}
		}
		for _, k := range spanKeys(tx.Bucket(bucketExitExp), lo, hi) {
			if len(k) != 8+hashSize+8 {
				continue
			}
			if err := dropExit(tx, k); err != nil {
				return err
			}
			if err := addExit(tx, k[8:8+hashSize], getI64(k)+by, binary.BigEndian.Uint64(k[8+hashSize:])); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		// The stamp before the floor: lookups read both without mu, and
		// must not see the new floor with the old stamp.
		l.unscoped.Store(unscoped)
	}
	if err == nil && top > l.floor.Load() {
		l.setFloor(top)
	}
	if err == nil && settle {
		l.marked = false
	}
	return n, fullOr(err)
}

// spanKeys returns copies of the keys of an expiry index (keys begin with
// an encoded time) stamped after lo and at or before hi.
func spanKeys(b *bolt.Bucket, lo, hi int64) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(i64(lo + 1)); len(k) >= 8 && getI64(k) <= hi; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}
