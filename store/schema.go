package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bucket and key names. docs/store.md lists what each holds.
var (
	bucketMeta = []byte("meta")

	// event log
	bucketEvents   = []byte("events")   // seq → at (int64 Unix s) || box
	bucketSegments = []byte("segments") // first seq → sealed segment header
	bucketAcks     = []byte("acks")     // acked-at (Unix ns) || through → nil, only with a retention
	bucketPasses   = []byte("passes")   // H(pass) → direction || wall
	bucketPassExp  = []byte("passexp")  // wall || H(pass) → nil (schema 2)
	bucketExits    = []byte("exits")    // H(household) || wall || seq → nil (schema 2)
	bucketExitExp  = []byte("exitexp")  // wall || H(household) || seq → nil (schema 2)

	// trust cache
	bucketDocs = []byte("docs") // kind → (name → written (Unix ns) || raw)

	keySchema     = []byte("schema")      // uint32
	keyCreated    = []byte("created")     // int64 Unix ns
	keyHashKey    = []byte("hashkey")     // 32 bytes: the gate-state hash key
	keyNext       = []byte("next")        // uint64: the next sequence
	keyAcked      = []byte("acked")       // uint64: acknowledged through
	keyFloor      = []byte("floor")       // int64 Unix ns: the time floor
	keyUntrusted  = []byte("untrusted")   // int64 Unix ns: just below the first stamp not yet trusted
	keyUnscoped   = []byte("unscoped")    // int64 Unix ns: the latest stamp of the gate state kept from schema 2 (keyed without the issuer)
	keyCheckAt    = []byte("check.at")    // int64 Unix ns
	keyCheckTook  = []byte("check.took")  // int64 ns
	keyCheckOK    = []byte("check.ok")    // 1 byte
	keyCheckProbs = []byte("check.probs") // problems, "\n"-separated
)

// Schema versions this build writes.
const (
	LogSchema   = 3
	TrustSchema = 1
)

// logBuckets lists the buckets of each event-log schema.
var logBuckets = map[int][][]byte{
	1: {bucketMeta, bucketEvents, bucketSegments, bucketAcks, bucketPasses},
	2: {bucketMeta, bucketEvents, bucketSegments, bucketAcks, bucketPasses, bucketPassExp, bucketExits, bucketExitExp},
	3: {bucketMeta, bucketEvents, bucketSegments, bucketAcks, bucketPasses, bucketPassExp, bucketExits, bucketExitExp},
}

// logMigrations[v] turns an event log of schema v into schema v+1. Each runs
// in one transaction together with the schema number it sets.
var logMigrations = map[int]func(*bolt.Tx) error{
	1: migrateLog1to2,
	2: migrateLog2to3,
}

// migrateLog1to2 adds the household-exit buckets (the quota) and the
// expiry index of the pass state. Schema 1 expired pass state by scanning
// the whole passes bucket.
func migrateLog1to2(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketPassExp, bucketExits, bucketExitExp} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	passes, exp := tx.Bucket(bucketPasses), tx.Bucket(bucketPassExp)
	// A damaged entry (bbolt has no checksums on values) costs that
	// entry, as it would in a log of this schema; it must not make the
	// migration, and so every open, fail.
	var bad [][]byte
	if err := passes.ForEach(func(h, v []byte) error {
		if len(v) != passValueSize {
			bad = append(bad, bytes.Clone(h))
			return nil
		}
		return exp.Put(append(v[1:9:9], h...), nil)
	}); err != nil {
		return err
	}
	for _, h := range bad {
		if err := passes.Delete(h); err != nil {
			return err
		}
	}
	return nil
}

// migrateLog2to3 marks a log that holds gate state keyed without the
// issuer: meta/unscoped holds the latest stamp of that state. Schema 3
// keys the state of a pass or a household by its issuer and its ID; the
// hashes of schema 2 cannot be re-keyed (they hide the IDs), so their
// entries stay until they expire, and until then the lookups count them
// too (Log.LastSeen, Log.HouseholdExits).
func migrateLog2to3(tx *bolt.Tx) error {
	latest, found := latestStateStamp(tx)
	if !found {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(keyUnscoped, i64(latest))
}

// migrate brings db from schema `from` to `to`, one step per transaction.
func migrate(db *bolt.DB, from, to int, steps map[int]func(*bolt.Tx) error) error {
	for v := from; v < to; v++ {
		step, ok := steps[v]
		if !ok {
			return fmt.Errorf("no migration from schema %d", v)
		}
		err := db.Update(func(tx *bolt.Tx) error {
			if err := step(tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchema, u32(uint32(v+1)))
		})
		if err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// readSchema returns the schema version in the meta bucket.
func readSchema(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, corrupt("no meta bucket")
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return 0, corrupt("no schema version")
	}
	return int(binary.BigEndian.Uint32(v)), nil
}

// checkBuckets checks that every bucket of a schema exists.
func checkBuckets(tx *bolt.Tx, names [][]byte) error {
	for _, name := range names {
		if tx.Bucket(name) == nil {
			return corrupt("no %q bucket", name)
		}
	}
	return nil
}

// Encodings. Times are stored so that byte order is time order.

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// i64 encodes a signed value (a time) so that byte order is numeric order.
func i64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)^(1<<63)) }

func getI64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func metaU64(meta *bolt.Bucket, key []byte) (uint64, error) {
	v := meta.Get(key)
	if len(v) != 8 {
		return 0, corrupt("meta %q: %d bytes", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func metaI64(meta *bolt.Bucket, key []byte) (int64, error) {
	v := meta.Get(key)
	if len(v) != 8 {
		return 0, corrupt("meta %q: %d bytes", key, len(v))
	}
	return getI64(v), nil
}
