package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bounds on the work one call does besides its own.
const (
	// seqReserve is how many sequences the sidecar reserves at a time: the
	// sidecar is rewritten once per seqReserve appends.
	seqReserve = 1024
	// expireBatch bounds the gate-state entries of each kind that one
	// Append deletes.
	expireBatch = 32
	// floorExpireBatch bounds those that one RaiseTimeFloor deletes.
	floorExpireBatch = 1024
	// purgeBatch bounds the retained events that one Append deletes.
	purgeBatch = 256
	// sidecarFloorStep: RaiseTimeFloor rewrites the sidecar when the floor
	// moved at least this far past the sidecar's copy.
	sidecarFloorStep = 10 * time.Minute
	// maxPending bounds one Pending call.
	maxPending = 100000
)

// Sealed is one event ready to upload: its sequence, the header of the
// segment it was sealed in (the same slice for events of one segment in a
// Pending result), and the sealed event. Only the hub can open it, with
// seal.Opener.Open(Header, Seq, Box).
type Sealed struct {
	Seq    uint64
	Header []byte
	Box    []byte
}

// Log is the event log, with the gate state and the time floor, in one
// bbolt file. Its methods are safe for concurrent use; writes are
// serialised.
type Log struct {
	path    string
	opt     LogOptions
	db      *bolt.DB
	soft    int // MaxSize for appends
	hard    int // MaxSize for deletions
	hashKey [32]byte
	lg      *slog.Logger
	schema  int

	floor atomic.Int64 // Unix ns; 0: none
	// unscoped is meta/unscoped, the latest stamp of the gate state kept
	// from schema 2 (noUnscoped: none); written under mu.
	unscoped atomic.Int64

	mu         sync.Mutex // serialises writes; guards the fields below
	closed     bool
	sealer     *seal.Sealer
	side       sidecar
	next       uint64
	acked      uint64
	fullErrors uint64
	markLive   bool  // a carry mark could not be deleted at open: the next Ack deletes it
	untrusted  int64 // meta/untrusted, when marked (markAfter)
	marked     bool
	check      CheckResult
	recovery   *Recovery

	// floorKick asks the floor saver to copy the time floor to the
	// sidecar; floorDone is closed when the saver has stopped.
	floorKick chan struct{}
	floorDone chan struct{}
}

// OpenLog opens the event log at path, creating it (atomically) if it does
// not exist, and checks it. A damaged log is moved aside to
// "<path>.corrupt-<time>", never deleted, and a fresh log started whose
// sequences go on past every sequence the damaged one used; Recovery then
// says so, Stats counts it, and it is logged at error level.
//
// Beside the log, OpenLog keeps "<path>.sidecar" (see docs/store.md); keep
// the two together.
//
// OpenLog returns ErrLocked when another process has the log open,
// ErrSchema for a log written by a newer build, ErrFull when there is no
// room to create or recover the file, and other errors for I/O.
func OpenLog(path string, opt LogOptions) (*Log, error) {
	opt = opt.withDefaults()
	if opt.Hub.IsZero() {
		return nil, errors.New("open event log: LogOptions.Hub (the hub's seal public key) is not set")
	}
	sealer, err := seal.NewSealer(opt.Hub, seal.SealerOptions{SegmentSize: opt.SegmentSize})
	if err != nil {
		return nil, err
	}
	l := &Log{
		path:   path,
		opt:    opt,
		soft:   opt.MaxSize,
		hard:   opt.MaxSize + headroom(opt.MaxSize),
		lg:     opt.Logger,
		sealer: sealer,
	}
	o, err := openFile(openSpec{
		path:     path,
		what:     "event log",
		opts:     boltOptions(l.hard, opt.LockTimeout),
		now:      opt.Now,
		logger:   opt.Logger,
		validate: validateLog,
		init:     initLog(opt.Now),
		salvage:  salvageNext,
	})
	if err != nil {
		return nil, err
	}
	l.db, l.check, l.recovery, l.side = o.db, o.check, o.recovery, o.side
	if err := l.load(); err != nil {
		closeQuietly(l.db)
		// The open failed without a crash: do not count it against the
		// file.
		l.side.attempts = max(l.side.attempts, 1) - 1
		_ = writeSidecar(sidecarPath(path), &l.side)
		return nil, fmt.Errorf("open event log: %w", err)
	}
	// Carry over what a damaged log moved aside still holds (now, or
	// again after a crash cut the last open's carry short). It runs once
	// the open is settled, so a carry that crashes the process is not
	// taken for a file that does. A failure leaves the damaged file as it
	// is and the fresh log working.
	carried, err := l.carry()
	if err != nil {
		opt.Logger.Error("store: could not carry every event over from a damaged log; the rest stay in it", "err", err)
	}
	if l.recovery != nil {
		l.recovery.Carried = carried
	}
	l.floorKick, l.floorDone = make(chan struct{}, 1), make(chan struct{})
	go l.saveFloors()
	return l, nil
}

// saveFloors copies the time floor to the sidecar when Append asks, until
// Close. It runs beside the appends so that the sidecar's fsync is not on
// a read's path: a person at the gate waits for their event's commit, not
// for this backup copy.
func (l *Log) saveFloors() {
	defer close(l.floorDone)
	for range l.floorKick {
		l.mu.Lock()
		if !l.closed {
			l.saveFloor()
		}
		l.mu.Unlock()
	}
}

// validateLog accepts a log of any schema up to LogSchema with its buckets.
func validateLog(tx *bolt.Tx) error {
	v, err := readSchema(tx)
	if err != nil {
		return err
	}
	names, ok := logBuckets[v]
	if !ok {
		if v > LogSchema {
			return fmt.Errorf("%w: event log has schema %d, this build knows up to %d", ErrSchema, v, LogSchema)
		}
		return corrupt("schema %d", v)
	}
	if err := checkBuckets(tx, names); err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	if len(meta.Get(keyHashKey)) != 32 {
		return corrupt("no hash key")
	}
	next, err := metaU64(meta, keyNext)
	if err != nil {
		return err
	}
	if _, err := metaU64(meta, keyAcked); err != nil {
		return err
	}
	if _, err := metaI64(meta, keyFloor); err != nil {
		return err
	}
	// The sequence counter must be past every event.
	if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
		if len(k) != 8 || binary.BigEndian.Uint64(k) >= next {
			return corrupt("event %x at or past the next sequence %d", k, next)
		}
	}
	return nil
}

// initLog fills a fresh log. Its first sequence is past the sidecar's
// high-water mark (and past what could be read from a damaged log whose
// sidecar was lost), and its time floor is the sidecar's.
func initLog(now func() time.Time) func(*bolt.Tx, sidecar, uint64, string) error {
	return func(tx *bolt.Tx, side sidecar, salvaged uint64, aside string) error {
		for _, name := range logBuckets[LogSchema] {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return err
		}
		next := max(side.hwm+1, salvaged, 1)
		meta := tx.Bucket(bucketMeta)
		for k, v := range map[string][]byte{
			string(keySchema):  u32(LogSchema),
			string(keyCreated): i64(now().UnixNano()),
			string(keyHashKey): key[:],
			string(keyNext):    u64(next),
			string(keyAcked):   u64(next - 1),
			string(keyFloor):   i64(side.floor),
		} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		if aside == "" {
			return nil
		}
		// Mark what the damaged log still holds for carrying over
		// (Log.carry), before this log's first event.
		if err := meta.Put(keySalvage, []byte(filepath.Base(aside))); err != nil {
			return err
		}
		return meta.Put(keySalvageBelow, u64(next))
	}
}

// load migrates the log, reads its state, records the check and settles
// the sidecar.
func (l *Log) load() error {
	var schema int
	if err := l.db.View(func(tx *bolt.Tx) (err error) {
		schema, err = readSchema(tx)
		return err
	}); err != nil {
		return err
	}
	l.db.MaxSize = l.hard
	if schema < LogSchema {
		if err := migrate(l.db, schema, LogSchema, logMigrations); err != nil {
			return fullOr(err)
		}
		l.lg.Info("store: migrated event log", "from", schema, "to", LogSchema)
	}
	l.schema = LogSchema
	err := l.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		copy(l.hashKey[:], meta.Get(keyHashKey))
		var err error
		if l.next, err = metaU64(meta, keyNext); err != nil {
			return err
		}
		if l.acked, err = metaU64(meta, keyAcked); err != nil {
			return err
		}
		floor, err := metaI64(meta, keyFloor)
		if err != nil {
			return err
		}
		if u := meta.Get(keyUntrusted); len(u) == 8 {
			l.untrusted, l.marked = getI64(u), true
		}
		l.unscoped.Store(noUnscoped)
		switch v := meta.Get(keyUnscoped); {
		case len(v) == 8:
			l.unscoped.Store(getI64(v))
		case v != nil:
			// The marker of the first schema-3 builds, without the stamp:
			// the latest in the expiry indexes bounds it.
			latest, _ := latestStateStamp(tx)
			latest = max(latest, noUnscoped+1)
			if err := meta.Put(keyUnscoped, i64(latest)); err != nil {
				return err
			}
			l.unscoped.Store(latest)
		}
		// The sidecar's floor counts too: it survives a recovery.
		floor = max(floor, l.side.floor)
		l.floor.Store(floor)
		if err := meta.Put(keyFloor, i64(floor)); err != nil {
			return err
		}
		// The check ran on the device clock, held at the floor.
		if at := l.check.At.UnixNano(); at < floor {
			l.check.At = time.Unix(0, floor).UTC()
		}
		ok := byte(0)
		if l.check.OK {
			ok = 1
		}
		for k, v := range map[string][]byte{
			string(keyCheckAt):    i64(l.check.At.UnixNano()),
			string(keyCheckTook):  i64(int64(l.check.Took)),
			string(keyCheckOK):    {ok},
			string(keyCheckProbs): []byte(strings.Join(l.check.Problems, "\n")),
		} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	l.db.MaxSize = l.soft
	if err != nil {
		return fullOr(err)
	}
	l.side.hwm = max(l.side.hwm, l.next-1)
	l.side.floor = max(l.side.floor, l.floor.Load())
	l.side.attempts = 0
	return fullOr(writeSidecar(sidecarPath(l.path), &l.side))
}

// Recovery returns what this open found and did when the log was damaged,
// or nil when it was not.
func (l *Log) Recovery() *Recovery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recovery
}

// Append assigns ev the next sequence (setting ev.Seq), seals it, stores
// it and updates the gate state and the time floor, all in one transaction,
// and returns once that transaction is on disk. A denied event changes no
// gate state. The last direction of a pass is recorded for allowed events
// with a pass ID; an exit of a household for allowed exits with a
// household ID, except exits that emergency mode alone let through (reason
// emergency); the time floor rises to ev.Wall.
//
// Append returns ErrFull (wrapped) when the log is full; nothing stored is
// harmed and appends succeed again once Ack (or the retention) freed
// space. It returns ErrClosed after Close, and other errors for I/O.
func (l *Log) Append(ev *scanner.Event) (uint64, error) {
	if ev == nil {
		return 0, errors.New("append event: nil event")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	seq := l.next
	if seq == math.MaxUint64 {
		return 0, errors.New("append event: sequences exhausted")
	}
	if seq > l.side.hwm {
		// Reserve the next block of sequences in the sidecar before any of
		// them is committed, so that a fresh log after a recovery starts
		// past every sequence this one used.
		side := l.side
		side.hwm = seq + seqReserve - 1
		side.floor = max(side.floor, l.floor.Load())
		if err := writeSidecar(sidecarPath(l.path), &side); err != nil {
			if isFull(err) {
				l.fullErrors++
			}
			return 0, fullOr(fmt.Errorf("append event %d: reserve sequences: %w", seq, err))
		}
		l.side = side
	}
	ev.Seq = seq
	msg, err := ev.MarshalBinary()
	if err != nil {
		return 0, fmt.Errorf("append event %d: %w", seq, err)
	}
	defer clear(msg)
	err = l.appendSealed(seq, ev, msg)
	if isFull(err) && l.opt.Retention > 0 {
		// Make room: drop the acknowledged events kept for the retention.
		if n, perr := l.purgeRetained(); perr == nil && n > 0 {
			err = l.appendSealed(seq, ev, msg)
		}
	}
	if err != nil {
		if isFull(err) {
			l.fullErrors++
		}
		return 0, fullOr(fmt.Errorf("append event %d: %w", seq, err))
	}
	l.next = seq + 1
	if ev.Wall > l.floor.Load() {
		l.floor.Store(ev.Wall)
	}
	if l.floor.Load()-l.side.floor >= int64(sidecarFloorStep) {
		select {
		case l.floorKick <- struct{}{}:
		default: // a save is already asked for
		}
	}
	return seq, nil
}

// saveFloor copies the time floor to the sidecar when the sidecar's copy
// lags by sidecarFloorStep or more, so that a fresh log after a recovery
// starts with a floor at most that far behind (Append leaves this to
// saveFloors, a moment after its commit). The log holds the floor; a
// failure here is only logged. The caller holds l.mu.
func (l *Log) saveFloor() {
	f := l.floor.Load()
	if f-l.side.floor < int64(sidecarFloorStep) {
		return
	}
	side := l.side
	side.floor = f
	if err := writeSidecar(sidecarPath(l.path), &side); err != nil {
		l.lg.Warn("store: could not save the time floor in the sidecar", "err", err)
		return
	}
	l.side = side
}

func (l *Log) appendSealed(seq uint64, ev *scanner.Event, msg []byte) error {
	// The Sealer starts a new segment after a failed commit (below), and
	// when seq is sealed again, so no key and nonce are used twice.
	box, seg, err := l.sealer.Seal(seq, msg)
	if err != nil {
		return err
	}
	floor := max(l.floor.Load(), ev.Wall)
	mark, marked := l.markAfter(ev)
	err = l.update(l.soft, func(tx *bolt.Tx) error {
		if err := l.appendRoom(tx); err != nil {
			return err
		}
		events := tx.Bucket(bucketEvents)
		events.FillPercent = 1.0
		v := make([]byte, 0, 8+len(box))
		v = append(append(v, i64(ev.Wall/int64(time.Second))...), box...)
		if err := events.Put(u64(seq), v); err != nil {
			return err
		}
		if seg.First == seq {
			segments := tx.Bucket(bucketSegments)
			segments.FillPercent = 1.0
			if err := segments.Put(u64(seq), seg.Header); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyNext, u64(seq+1)); err != nil {
			return err
		}
		if err := meta.Put(keyFloor, i64(floor)); err != nil {
			return err
		}
		switch {
		case marked && (!l.marked || mark != l.untrusted):
			if err := meta.Put(keyUntrusted, i64(mark)); err != nil {
				return err
			}
		case !marked && l.marked:
			if err := meta.Delete(keyUntrusted); err != nil {
				return err
			}
		}
		if ev.Allow && len(ev.PassID) > 0 {
			if err := setLastSeen(tx, l.stateKey(domainPass, ev.Issuer, ev.PassID), ev.Direction, ev.Wall); err != nil {
				return err
			}
		}
		// An exit the rules would have denied and emergency mode let
		// through (an evacuation) does not use up the household's quota.
		if ev.Allow && ev.Direction == scanner.Exit && len(ev.Household) > 0 && ev.Reason != scanner.ReasonEmergency {
			if err := addExit(tx, l.stateKey(domainHousehold, ev.Issuer, ev.Household), ev.Wall, seq); err != nil {
				return err
			}
		}
		// A gatekeeper who kept back a holder the read let through undoes
		// that passage: the holder stays on the side they were on (unless
		// the pass went the other way since), and an exit does not use up
		// the household's quota.
		if !ev.Allow && ev.Overrides != 0 && len(ev.PassID) > 0 {
			h := l.stateKey(domainPass, ev.Issuer, ev.PassID)
			if v := tx.Bucket(bucketPasses).Get(h); len(v) == passValueSize && scanner.Direction(v[0]) == ev.Direction {
				if err := setLastSeen(tx, h, ev.Direction.Opposite(), ev.Wall); err != nil {
					return err
				}
			}
			if ev.Direction == scanner.Exit && len(ev.Household) > 0 {
				if err := removeExit(tx, l.stateKey(domainHousehold, ev.Issuer, ev.Household), ev.Overrides); err != nil {
					return err
				}
			}
		}
		if _, err := expireState(tx, floor-int64(l.opt.StateHorizon), expireBatch); err != nil {
			return err
		}
		if l.opt.Retention > 0 {
			if _, err := l.purgeAcks(tx, floor, purgeBatch); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		l.untrusted, l.marked = mark, marked
	} else {
		// The segment this event may have started has no stored
		// header: seal the next event in a new one, whatever its
		// sequence (Ack may move the counter past this one).
		l.sealer.Rotate()
	}
	return err
}

// appendRoom refuses an append when the pages in use already fill what
// appends may grow the file to. bbolt checks MaxSize only when it grows
// the file, and takes free pages first: without this, the pages a
// deletion grew the file by (with the headroom) are free after it, appends
// take them, and the file creeps to MaxSize plus the headroom with no page
// free, where Ack cannot run. The caller holds l.mu (the free-page counts
// are those of the last write).
func (l *Log) appendRoom(tx *bolt.Tx) error {
	// What bbolt lets appends reach at MaxSize: past 1 MiB it grows the
	// file allocSize beyond the pages, within MaxSize; up to 1 MiB it
	// grows it to the map, which reaches 1 MiB with any MaxSize above.
	limit := max(min(int64(l.soft), allocSize), int64(l.soft)-allocSize)
	if tx.Size() <= limit {
		return nil
	}
	st := l.db.Stats()
	inUse := tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(tx.DB().Info().PageSize)
	if inUse > limit {
		return bolterrors.ErrMaxSizeReached
	}
	return nil
}

// update runs fn in a write transaction with the given size limit. The
// caller holds l.mu.
func (l *Log) update(limit int, fn func(*bolt.Tx) error) error {
	l.db.MaxSize = limit
	defer func() { l.db.MaxSize = l.soft }()
	return mapClosed(l.db.Update(fn))
}

// now is the device clock held at the time floor.
func (l *Log) now() time.Time {
	now := l.opt.Now()
	if f := l.floor.Load(); now.UnixNano() < f {
		return time.Unix(0, f).UTC()
	}
	return now
}

// Pending returns up to limit unacknowledged events with sequences above
// after, in sequence order. It returns ErrClosed after Close, and an error
// if an event's segment header is missing (a damaged log).
func (l *Log) Pending(after uint64, limit int) ([]Sealed, error) {
	if limit <= 0 {
		return nil, nil
	}
	limit = min(limit, maxPending)
	var out []Sealed
	err := l.db.View(func(tx *bolt.Tx) error {
		acked, err := metaU64(tx.Bucket(bucketMeta), keyAcked)
		if err != nil {
			return err
		}
		from := max(after, acked)
		if from == math.MaxUint64 {
			return nil
		}
		segs := tx.Bucket(bucketSegments).Cursor()
		var hdr []byte
		var segFirst, segEnd uint64 // hdr covers [segFirst, segEnd)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(u64(from + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if hdr == nil || seq < segFirst || seq >= segEnd {
				hdr, segFirst, segEnd, err = segmentFor(segs, seq)
				if err != nil {
					return err
				}
			}
			if len(v) < 8 {
				return corrupt("event %d: %d bytes", seq, len(v))
			}
			out = append(out, Sealed{Seq: seq, Header: hdr, Box: bytes.Clone(v[8:])})
		}
		return nil
	})
	return out, mapClosed(err)
}

// segmentFor finds the header of the segment holding seq: the segment with
// the greatest first sequence at or below seq. It returns a copy of the
// header and the range of sequences it covers.
func segmentFor(c *bolt.Cursor, seq uint64) (hdr []byte, first, end uint64, err error) {
	k, v := c.Seek(u64(seq))
	end = math.MaxUint64
	if k != nil && binary.BigEndian.Uint64(k) == seq {
		first = seq
	} else {
		if k != nil {
			end = binary.BigEndian.Uint64(k)
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
		if k == nil {
			return nil, 0, 0, corrupt("no segment header for event %d", seq)
		}
		first = binary.BigEndian.Uint64(k)
	}
	hdr = bytes.Clone(v)
	if nk, _ := c.Next(); nk != nil {
		end = binary.BigEndian.Uint64(nk)
	}
	return hdr, first, end, nil
}

// Ack records that the hub has durably stored every event through the
// given sequence. With no retention it deletes them, in one transaction;
// with a retention it keeps them that long. Acknowledging less than before
// does nothing. Acknowledging past the last appended event (the hub holds
// sequences this log never wrote, as after restoring an old copy of the
// log) acknowledges everything and moves the next sequence past through,
// so that no sequence the hub holds is used again; it is logged as a
// warning.
//
// Ack works on a full log. It returns ErrClosed after Close, and other
// errors for I/O.
func (l *Log) Ack(through uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if through <= l.acked {
		return nil
	}
	next := l.next
	if through >= next {
		if through >= math.MaxUint64-seqReserve {
			return fmt.Errorf("ack through %d: beyond any sequence", through)
		}
		l.lg.Warn("store: the hub acknowledged events this log never wrote; moving the sequence past them",
			"through", through, "next", next)
		next = through + 1
		if next > l.side.hwm {
			side := l.side
			side.hwm = next + seqReserve - 1
			if err := writeSidecar(sidecarPath(l.path), &side); err != nil {
				return fullOr(fmt.Errorf("ack through %d: %w", through, err))
			}
			l.side = side
		}
	}
	now := l.now().UnixNano()
	err := l.update(l.hard, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if l.markLive {
			if err := deleteMark(meta); err != nil {
				return err
			}
		}
		if err := meta.Put(keyAcked, u64(through)); err != nil {
			return err
		}
		if err := meta.Put(keyNext, u64(next)); err != nil {
			return err
		}
		if l.opt.Retention <= 0 {
			_, _, err := deleteEvents(tx, through, -1)
			return err
		}
		k := append(i64(now), u64(through)...)
		return tx.Bucket(bucketAcks).Put(k, nil)
	})
	if err != nil {
		return fullOr(fmt.Errorf("ack through %d: %w", through, err))
	}
	l.acked, l.next, l.markLive = through, next, false
	return nil
}

// deleteEvents deletes events through the given sequence, the oldest
// first, at most limit of them (limit < 0: all), and the segment headers no
// remaining event needs. done says whether none through remains.
func deleteEvents(tx *bolt.Tx, through uint64, limit int) (n int, done bool, err error) {
	events := tx.Bucket(bucketEvents)
	var keys [][]byte
	c := events.Cursor()
	k, _ := c.First()
	for ; k != nil && binary.BigEndian.Uint64(k) <= through; k, _ = c.Next() {
		if limit >= 0 && len(keys) >= limit {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	done = k == nil || binary.BigEndian.Uint64(k) > through
	for _, k := range keys {
		if err := events.Delete(k); err != nil {
			return 0, false, err
		}
	}
	// Keep the segment of the oldest remaining event (or, with none left,
	// the latest segment: the Sealer may still be sealing in it) and
	// those after it.
	var keepFrom []byte
	if first, _ := events.Cursor().First(); first != nil {
		sc := tx.Bucket(bucketSegments).Cursor()
		sk, _ := sc.Seek(first)
		if sk == nil || !bytes.Equal(sk, first) {
			if sk == nil {
				sk, _ = sc.Last()
			} else {
				sk, _ = sc.Prev()
			}
		}
		keepFrom = bytes.Clone(sk)
	} else {
		sk, _ := tx.Bucket(bucketSegments).Cursor().Last()
		keepFrom = bytes.Clone(sk)
	}
	if keepFrom != nil {
		var drop [][]byte
		sc := tx.Bucket(bucketSegments).Cursor()
		for sk, _ := sc.First(); sk != nil && bytes.Compare(sk, keepFrom) < 0; sk, _ = sc.Next() {
			drop = append(drop, bytes.Clone(sk))
		}
		for _, sk := range drop {
			if err := tx.Bucket(bucketSegments).Delete(sk); err != nil {
				return 0, false, err
			}
		}
	}
	return len(keys), done, nil
}

// purgeAcks deletes the events of acknowledgements older than the
// retention, at most limit events.
func (l *Log) purgeAcks(tx *bolt.Tx, now int64, limit int) (int, error) {
	cutoff := now - int64(l.opt.Retention)
	acks := tx.Bucket(bucketAcks)
	total := 0
	for {
		k, _ := acks.Cursor().First()
		if k == nil || len(k) != 16 || getI64(k) > cutoff || total >= limit {
			if k != nil && len(k) != 16 {
				return total, acks.Delete(k)
			}
			return total, nil
		}
		n, done, err := deleteEvents(tx, binary.BigEndian.Uint64(k[8:]), limit-total)
		if err != nil {
			return total, err
		}
		total += n
		if !done {
			return total, nil
		}
		if err := acks.Delete(bytes.Clone(k)); err != nil {
			return total, err
		}
	}
}

// purgeRetained deletes every acknowledged event kept for the retention,
// to make room on a full log. The caller holds l.mu.
func (l *Log) purgeRetained() (int, error) {
	var n int
	err := l.update(l.hard, func(tx *bolt.Tx) error {
		var err error
		n, _, err = deleteEvents(tx, l.acked, -1)
		if err != nil {
			return err
		}
		acks := tx.Bucket(bucketAcks)
		var keys [][]byte
		_ = acks.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
		for _, k := range keys {
			if err := acks.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && n > 0 {
		l.lg.Warn("store: event log full; dropped acknowledged events before their retention ended", "events", n)
	}
	return n, err
}

// LastSeen returns the direction and time of the last allowed passage of
// the pass with this ID from this issuer, within the state horizon
// (measured back from the time floor). ok is false when there is none. It
// returns ErrClosed after Close.
func (l *Log) LastSeen(issuer string, passID []byte) (dir scanner.Direction, at time.Time, ok bool, err error) {
	h := l.stateKey(domainPass, issuer, passID)
	var old []byte // a migrated log's passages from before schema 3
	if l.unscopedInSight() {
		old = l.unscopedKey(domainPassUnscoped, passID)
	}
	cutoff := l.floor.Load() - int64(l.opt.StateHorizon)
	err = l.db.View(func(tx *bolt.Tx) error {
		passes := tx.Bucket(bucketPasses)
		v := passes.Get(h)
		if len(v) != passValueSize && old != nil {
			v = passes.Get(old) // the pass has not passed since
		}
		if len(v) != passValueSize {
			return nil
		}
		wall := getI64(v[1:])
		if wall < cutoff {
			return nil
		}
		dir, at, ok = scanner.Direction(v[0]), time.Unix(0, wall).UTC(), true
		return nil
	})
	return dir, at, ok, mapClosed(err)
}

// HouseholdExits returns how many allowed exits the household with this ID
// from this issuer made at or after since (and within the state horizon).
// A log migrated from schema 2 counts too the exits it recorded then of a
// household with this ID, whatever its issuer. It returns ErrClosed after
// Close.
func (l *Log) HouseholdExits(issuer string, household []byte, since time.Time) (int, error) {
	hs := [][]byte{l.stateKey(domainHousehold, issuer, household)}
	if l.unscopedInSight() {
		hs = append(hs, l.unscopedKey(domainHouseholdUnscoped, household))
	}
	from := i64(max(since.UnixNano(), l.floor.Load()-int64(l.opt.StateHorizon)))
	n := 0
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketExits).Cursor()
		for _, h := range hs {
			for k, _ := c.Seek(append(h, from...)); k != nil && bytes.HasPrefix(k, h); k, _ = c.Next() {
				n++
			}
		}
		return nil
	})
	return n, mapClosed(err)
}

// TimeFloor returns the time floor: the latest of the event times, the
// times given to RaiseTimeFloor, and the floor kept in the sidecar. It is
// the zero Time when there is none yet.
func (l *Log) TimeFloor() time.Time {
	f := l.floor.Load()
	if f == 0 {
		return time.Time{}
	}
	return time.Unix(0, f).UTC()
}

// RaiseTimeFloor raises the time floor to t and commits it; a t at or
// below the floor does nothing (the floor never goes down). It also drops
// gate state that fell out of the horizon, and acknowledged events whose
// retention ended (bounded work). Call it now and then with the floor
// advanced by the monotonic clock; each call that raises the floor costs
// one commit. Not with a time far ahead of state stamped under an
// untrusted clock that ShiftState has not moved yet (the hub's signed
// time): that state would be dropped by its old stamps (docs/store.md,
// "Time floor"). It returns ErrClosed after Close, ErrFull (wrapped) when
// even the headroom is used up, and other errors for I/O.
func (l *Log) RaiseTimeFloor(t time.Time) error {
	ns := t.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if ns <= l.floor.Load() {
		return nil
	}
	err := l.update(l.hard, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keyFloor, i64(ns)); err != nil {
			return err
		}
		if _, err := expireState(tx, ns-int64(l.opt.StateHorizon), floorExpireBatch); err != nil {
			return err
		}
		if l.opt.Retention > 0 {
			if _, err := l.purgeAcks(tx, ns, 4*purgeBatch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fullOr(fmt.Errorf("raise time floor: %w", err))
	}
	l.setFloor(ns)
	return nil
}

// setFloor makes ns, committed, the time floor, and copies it to the
// sidecar when the sidecar's lags (saveFloor). The caller holds l.mu.
func (l *Log) setFloor(ns int64) {
	l.floor.Store(ns)
	l.saveFloor()
}

// Close closes the log. Later calls return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.sealer.Rotate()
	err := l.db.Close()
	if f := l.floor.Load(); f > l.side.floor {
		side := l.side
		side.floor = f
		if werr := writeSidecar(sidecarPath(l.path), &side); werr != nil {
			l.lg.Warn("store: could not save the time floor in the sidecar", "err", werr)
		} else {
			l.side = side
		}
	}
	// Appends kick the saver holding l.mu and only while open: none
	// comes after this.
	close(l.floorKick)
	l.mu.Unlock()
	<-l.floorDone
	return err
}

// Path returns the log's file path.
func (l *Log) Path() string { return l.path }

// LogStats describes the event log for `scanner status` and metrics.
type LogStats struct {
	Path     string
	FileSize int64 // bytes on disk
	MaxSize  int   // Append returns ErrFull past this
	Schema   int

	NextSeq       uint64    // the sequence the next Append gets
	AckedThrough  uint64    // the hub has every event through this
	Pending       uint64    // events not yet acknowledged
	OldestPending time.Time // device time of the oldest pending event; zero when none
	Retained      uint64    // acknowledged events kept for the retention
	Segments      int       // segment headers stored

	Passes         int // pass entries in the gate state
	HouseholdExits int // household-exit entries in the gate state

	TimeFloor  time.Time
	LastCheck  CheckResult
	Recoveries uint64    // damaged logs moved aside, over the device's life (metric-ready counter)
	Recovery   *Recovery // set when this open moved a damaged log aside
	FullErrors uint64    // appends refused with ErrFull since open
}

// Stats returns the log's statistics. It walks the gate-state buckets, so
// call it for status and metrics, not per decision. It returns ErrClosed
// after Close.
func (l *Log) Stats() (LogStats, error) {
	l.mu.Lock()
	s := LogStats{
		Path:       l.path,
		MaxSize:    l.soft,
		Schema:     l.schema,
		TimeFloor:  l.TimeFloor(),
		LastCheck:  l.check,
		Recoveries: l.side.recoveries,
		Recovery:   l.recovery,
		FullErrors: l.fullErrors,
	}
	l.mu.Unlock()
	if fi, err := os.Stat(l.path); err == nil {
		s.FileSize = fi.Size()
	}
	err := l.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var err error
		if s.NextSeq, err = metaU64(meta, keyNext); err != nil {
			return err
		}
		if s.AckedThrough, err = metaU64(meta, keyAcked); err != nil {
			return err
		}
		events := tx.Bucket(bucketEvents)
		// The sequences a log file wrote are contiguous from its first
		// event on; events carried over from a damaged log lie below the
		// file's first sequence (below) and are counted one by one.
		below := uint64(0)
		if v := meta.Get(keySalvageBelow); len(v) == 8 {
			below = binary.BigEndian.Uint64(v)
		}
		c := events.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < below; k, _ = c.Next() {
			if binary.BigEndian.Uint64(k) > s.AckedThrough {
				s.Pending++
			} else {
				s.Retained++
			}
		}
		// The log's own: from its first event still there to the last.
		if k, _ := c.Seek(u64(below)); k != nil {
			first := binary.BigEndian.Uint64(k)
			if from := max(s.AckedThrough+1, first); s.NextSeq > from {
				s.Pending += s.NextSeq - from
			}
			if first <= s.AckedThrough {
				s.Retained += min(s.AckedThrough, s.NextSeq-1) - first + 1
			}
		}
		if k, v := events.Cursor().Seek(u64(s.AckedThrough + 1)); k != nil && len(v) >= 8 {
			s.OldestPending = time.Unix(getI64(v), 0).UTC()
		}
		s.Segments = tx.Bucket(bucketSegments).Stats().KeyN
		s.Passes = tx.Bucket(bucketPasses).Stats().KeyN
		s.HouseholdExits = tx.Bucket(bucketExits).Stats().KeyN
		return nil
	})
	return s, mapClosed(err)
}
