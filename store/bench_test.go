package store_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// benchEvent is a typical event: a verified pass, allowed.
func benchEvent(i int, rng *rand.Rand) *scanner.Event {
	id := make([]byte, 16)
	for j := range id {
		id[j] = byte(rng.IntN(256))
	}
	return &scanner.Event{
		BootID:      [16]byte{9, 9, 9},
		Mono:        time.Duration(i) * time.Second,
		Wall:        t0.Add(time.Duration(i) * time.Second).UnixNano(),
		WallTrusted: true,
		Site:        "north-gate",
		Direction:   scanner.Direction(i % 2),
		Input:       "camera0",
		Allow:       true,
		Reason:      scanner.ReasonOK,
		Status:      scanner.Green,
		Issuer:      "district-7",
		PassID:      id,
		Household:   id[:8],
		Holder:      fmt.Sprintf("WL %d-%03d", i%30, i%1000),
		Class:       scanner.Resident,
	}
}

// BenchmarkAppend measures durable appends (each one fsynced before it
// returns, as on the gate): appends/s and the p50 and p99 latency.
func BenchmarkAppend(b *testing.B) {
	b.Run("fsync", func(b *testing.B) { benchAppend(b, true) })
	// Without fsync: the store's own CPU cost (sealing, encoding, bbolt).
	b.Run("nosync", func(b *testing.B) { benchAppend(b, false) })
}

func benchAppend(b *testing.B, durable bool) {
	priv, _ := testHub(b)
	l := openLog(b, filepath.Join(b.TempDir(), "events.db"), store.LogOptions{Hub: priv.Public()})
	if !durable {
		store.NoSyncForTest(l, true)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	evs := make([]*scanner.Event, 0, 1024)
	for i := range 1024 {
		evs = append(evs, benchEvent(i, rng))
	}
	var lat []time.Duration
	i := 0
	start := time.Now()
	for b.Loop() {
		ev := *evs[i%len(evs)]
		ev.Wall = t0.Add(time.Duration(i) * time.Second).UnixNano()
		t := time.Now()
		if _, err := l.Append(&ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
		i++
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// fillState appends n allowed events (unsynced: the lookups are measured,
// not the fill) and returns the log and the pass and household IDs used.
func fillState(b *testing.B, n int) (*store.Log, [][]byte, [][]byte) {
	priv, _ := testHub(b)
	l := openLog(b, filepath.Join(b.TempDir(), "events.db"), store.LogOptions{Hub: priv.Public(), StateHorizon: 30 * 24 * time.Hour})
	store.NoSyncForTest(l, true)
	rng := rand.New(rand.NewPCG(3, 4))
	var passes, households [][]byte
	for i := range n {
		ev := benchEvent(i, rng)
		ev.Household = []byte(fmt.Sprintf("household-%04d", i%1000))
		ev.Direction = scanner.Exit
		if _, err := l.Append(ev); err != nil {
			b.Fatal(err)
		}
		passes = append(passes, ev.PassID)
		if i < 1000 {
			households = append(households, ev.Household)
		}
	}
	return l, passes, households
}

// BenchmarkLastSeen measures the anti-passback lookup among 20,000 passes.
func BenchmarkLastSeen(b *testing.B) {
	l, passes, _ := fillState(b, 20000)
	i := 0
	for b.Loop() {
		if _, _, ok, err := l.LastSeen("district-7", passes[i%len(passes)]); err != nil || !ok {
			b.Fatalf("LastSeen: %v %v", ok, err)
		}
		i += 7919
	}
}

// BenchmarkHouseholdExits measures the quota lookup: 1,000 households with
// 20 exits each.
func BenchmarkHouseholdExits(b *testing.B) {
	l, _, households := fillState(b, 20000)
	since := t0
	i := 0
	for b.Loop() {
		if n, err := l.HouseholdExits("district-7", households[i%len(households)], since); err != nil || n != 20 {
			b.Fatalf("HouseholdExits: %d %v", n, err)
		}
		i += 7
	}
}

// BenchmarkFileSize reports the event log's size per 100,000 typical
// events (appended one per transaction, as on the gate, but unsynced to
// save time: fsync does not change the layout). "allowed": every event
// allowed, so each adds gate state (a new pass; half of them exits), with
// a horizon long enough that none expires; "denied": no gate state, the
// sealed events alone. Run it with -benchtime=1x.
func BenchmarkFileSize(b *testing.B) {
	b.Run("allowed", func(b *testing.B) { benchFileSize(b, true) })
	b.Run("denied", func(b *testing.B) { benchFileSize(b, false) })
}

func benchFileSize(b *testing.B, allow bool) {
	const n = 100000
	for b.Loop() {
		priv, _ := testHub(b)
		dir := b.TempDir()
		path := filepath.Join(dir, "events.db")
		l := openLog(b, path, store.LogOptions{Hub: priv.Public(), StateHorizon: 30 * 24 * time.Hour})
		store.NoSyncForTest(l, true)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range n {
			ev := benchEvent(i, rng)
			if !allow {
				ev.Allow, ev.Reason = false, scanner.ReasonStatusRed
			}
			if _, err := l.Append(ev); err != nil {
				b.Fatal(err)
			}
		}
		st, err := l.Stats()
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Ack(st.NextSeq - 1); err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.FileSize)/(1<<20), "MiB/100k-events")
		b.ReportMetric(float64(st.FileSize)/n, "bytes/event")
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-after-ack-all")
	}
}
