package gate_test

import (
	"context"
	"encoding/binary"
	"image"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/store"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkScanToDecision measures, in one run and interleaved, the gate's
// latency from a frame to a committed event — split into decoding and
// everything after it (verify, policy, the fsynced commit) — and a bare
// bbolt Update of one small value with fsync on the same disk. It reports
// medians and 99th percentiles, and the ratios of the after-decoding part
// to the bare Update (BENCHMARKS.md).
//
// "first" reads a pass the gate has not seen: every read verifies its
// signature, as with the daemon's signature cache off. "again" reads a
// pass whose signature the cache already holds, as for a resident going
// out and coming back. Each read is a minute after the last, past the
// debounce window, so each is a decision and a committed event.
//
// An fsynced Update costs more after milliseconds without a write than
// straight after another write, whatever the CPU did in between
// (BenchmarkBareUpdateAfter). In the gate a read's commit follows a
// decode, milliseconds after the last write; so the bare Update, too, runs
// right after a decode of the same frame (untimed), and the two are
// compared in the same state. A second bare Update straight after it is
// reported beside (bolt-nodecode) to show how much that state weighs.
func BenchmarkScanToDecision(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"640x480", 640, 480}, {"1280x720", 1280, 720}} {
		for _, seen := range []string{"first", "again"} {
			b.Run(size.name+"/"+seen, func(b *testing.B) {
				r := newRig(b, nil)
				r.g.Outputs = nil // up to the commit: outputs come after it
				r.g.Log = r.log   // without the tests' commit probe
				if seen == "again" {
					r.trust = r.trust.WithSigCache(scanner.NewSigCache(16))
				}
				text := r.issue("bench")
				frame := r.frame(text, size.w, size.h)
				benchScan(b, r, text, frame)
			})
		}
	}
}

func benchScan(b *testing.B, r *rig, text string, frame *image.Gray) {
	put := bareUpdate(b)
	decode := func() time.Duration {
		t := time.Now()
		got, err := qr.Decode(frame)
		d := time.Since(t)
		if err != nil || got != text {
			b.Fatalf("decode: %v", err)
		}
		return d
	}
	var dec, after, update, warm []time.Duration
	for i := 0; b.Loop(); i++ {
		r.advance(time.Minute) // past the debounce window

		dec = append(dec, decode())
		t := time.Now()
		o := r.g.Handle(context.Background(), entry, scanner.Read{Text: text})
		after = append(after, time.Since(t))
		if o == nil || !o.Logged || !o.Decision.Allow {
			b.Fatalf("not an allowed, logged decision: %+v", o)
		}

		decode()
		update = append(update, put(2*uint64(i)))
		// And once more straight after the last write: not how the gate
		// writes, shown for comparison (BENCHMARKS.md).
		warm = append(warm, put(2*uint64(i)+1))
	}
	b.StopTimer()
	b.ReportMetric(quantile(dec, 0.5), "decode-p50-µs")
	b.ReportMetric(quantile(dec, 0.99), "decode-p99-µs")
	b.ReportMetric(quantile(after, 0.5), "after-p50-µs")
	b.ReportMetric(quantile(after, 0.99), "after-p99-µs")
	b.ReportMetric(quantile(update, 0.5), "bolt-p50-µs")
	b.ReportMetric(quantile(update, 0.99), "bolt-p99-µs")
	b.ReportMetric(quantile(warm, 0.5), "bolt-nodecode-p50-µs")
	b.ReportMetric(quantile(after, 0.5)/quantile(update, 0.5), "after/bolt-p50")
	b.ReportMetric(quantile(after, 0.99)/quantile(update, 0.99), "after/bolt-p99")
}

// quantile returns the q-quantile of d in microseconds; it sorts d.
func quantile(d []time.Duration, q float64) float64 {
	slices.Sort(d)
	return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds())
}

// bareUpdate opens a bbolt file in a temporary folder and returns a
// function that runs one Update putting a 40-byte value under key i, with
// bbolt's fsyncs, and returns how long it took.
func bareUpdate(b *testing.B) func(i uint64) time.Duration {
	bare, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bare.Close() })
	if err := bare.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	var key [8]byte
	return func(i uint64) time.Duration {
		binary.BigEndian.PutUint64(key[:], i)
		t := time.Now()
		if err := bare.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).Put(key[:], []byte("a small value of about forty bytes......"))
		}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t)
	}
}

// BenchmarkBareUpdateAfter shows what makes a bare Update dearer right
// after a decode than straight after another Update: it times the Update
// after each of a decode of a 640×480 frame, 2 ms of arithmetic that
// touches no memory, 2 ms asleep, and a walk over 8 MiB of memory that
// takes a fraction of that time (BENCHMARKS.md). Each is followed by a
// second Update straight after (the "-again" metric); "before" is how long
// the step before the first took.
func BenchmarkBareUpdateAfter(b *testing.B) {
	r := newRig(b, nil)
	text := r.issue("bench")
	frame := r.frame(text, 640, 480)
	junk := make([]byte, 8<<20)
	var sink uint64
	for _, before := range []struct {
		name string
		do   func()
	}{
		{"decode", func() {
			if got, err := qr.Decode(frame); err != nil || got != text {
				b.Fatalf("decode: %v", err)
			}
		}},
		{"spin-2ms", func() {
			for t := time.Now(); time.Since(t) < 2*time.Millisecond; {
				sink++
			}
		}},
		{"sleep-2ms", func() { time.Sleep(2 * time.Millisecond) }},
		{"touch-8MiB", func() {
			for j := 0; j < len(junk); j += 64 {
				junk[j]++
			}
		}},
	} {
		b.Run(before.name, func(b *testing.B) {
			put := bareUpdate(b)
			var gap, first, again []time.Duration
			for i := uint64(0); b.Loop(); i += 2 {
				t := time.Now()
				before.do()
				gap = append(gap, time.Since(t))
				first = append(first, put(i))
				again = append(again, put(i+1))
			}
			b.ReportMetric(quantile(gap, 0.5), "before-p50-µs")
			b.ReportMetric(quantile(first, 0.5), "bolt-p50-µs")
			b.ReportMetric(quantile(again, 0.5), "bolt-again-p50-µs")
		})
	}
	_ = sink
}

// BenchmarkAfterDecodeParts splits what BenchmarkScanToDecision times
// after decoding into its two parts, each timed right after a decode of
// the frame as in the gate: scanner.Decide (parsing, the signature, the
// claims, policy and the gate-state lookups in the event log) and the
// log's Append of the decision's event (sealing and the fsynced commit),
// beside a bare Update after a decode too (BENCHMARKS.md).
func BenchmarkAfterDecodeParts(b *testing.B) {
	for _, seen := range []string{"first", "again"} {
		b.Run(seen, func(b *testing.B) {
			r := newRig(b, nil)
			if seen == "again" {
				r.trust = r.trust.WithSigCache(scanner.NewSigCache(16))
			}
			text := r.issue("bench")
			frame := r.frame(text, 640, 480)
			decode := func() {
				if got, err := qr.Decode(frame); err != nil || got != text {
					b.Fatalf("decode: %v", err)
				}
			}
			put := bareUpdate(b)
			gate := scanner.Gate{Site: r.g.Site, Direction: scanner.Entry}
			var decide, appendEv, update []time.Duration
			for i := uint64(0); b.Loop(); i++ {
				r.advance(time.Minute)
				now := scanner.Moment{Wall: r.now(), Trusted: true}
				decode()
				t := time.Now()
				d := scanner.Decide(text, r.trust, r.policy, logLocal{r.log}, gate, now)
				decide = append(decide, time.Since(t))
				if !d.Allow {
					b.Fatalf("decision: %+v", d)
				}
				ev := &scanner.Event{Wall: now.Wall.UnixNano(), WallTrusted: true, Site: gate.Site, Direction: gate.Direction,
					Allow: d.Allow, Reason: d.Reason, Status: d.Status, Issuer: d.Pass.Issuer, PassID: d.Pass.ID,
					Household: d.Pass.Household, Holder: d.Pass.Holder, Class: d.Pass.Class}
				decode()
				t = time.Now()
				if _, err := r.log.Append(ev); err != nil {
					b.Fatal(err)
				}
				appendEv = append(appendEv, time.Since(t))
				decode()
				update = append(update, put(i))
			}
			b.ReportMetric(quantile(decide, 0.5), "Decide-p50-µs")
			b.ReportMetric(quantile(appendEv, 0.5), "Append-p50-µs")
			b.ReportMetric(quantile(update, 0.5), "bolt-p50-µs")
		})
	}
}

// logLocal is the event log as scanner.Local, as the gate uses it.
type logLocal struct{ l *store.Log }

func (m logLocal) LastSeen(issuer string, id []byte) (scanner.Direction, time.Time, bool) {
	dir, at, ok, _ := m.l.LastSeen(issuer, id)
	return dir, at, ok
}

func (m logLocal) HouseholdExits(issuer string, h []byte, since time.Time) int {
	n, _ := m.l.HouseholdExits(issuer, h, since)
	return n
}
