package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	bolt "go.etcd.io/bbolt"
)

var update = flag.Bool("update", false, "regenerate the files in testdata/ (the schema-1 event log and its hub key)")

var quietLog = slog.New(slog.DiscardHandler)

const (
	v1Events = 40 // events written, sequences 1 to 40
	v1Acked  = 10 // acknowledged (deleted) through
)

var v1Base = time.Date(2026, 2, 1, 6, 0, 0, 0, time.UTC)

// v1Event is event number i of the schema-1 test log.
func v1Event(i int) *scanner.Event {
	return &scanner.Event{
		Seq:         uint64(i),
		BootID:      [16]byte{'v', '1'},
		Mono:        time.Duration(i) * time.Minute,
		Wall:        v1Base.Add(time.Duration(i) * time.Minute).UnixNano(),
		WallTrusted: i%3 != 0,
		Site:        "v1-site",
		Direction:   scanner.Direction(i % 2),
		Allow:       i%4 != 3,
		Reason:      scanner.ReasonOK,
		Issuer:      "v1-issuer",
		PassID:      []byte(fmt.Sprintf("v1-pass-%02d", i%12)),
		Household:   []byte(fmt.Sprintf("v1-hh-%d", i%5)),
		Holder:      fmt.Sprintf("V1 %d", i),
	}
}

// writeLogV1 writes an event log in schema 1 as the build that shipped it
// did: no household exits, and pass state with no expiry index. Its layout
// is frozen here; do not change it to follow the current schema.
func writeLogV1(path string, hub seal.PublicKey) error {
	sealer, err := seal.NewSealer(hub, seal.SealerOptions{SegmentSize: 16})
	if err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b := map[string]*bolt.Bucket{}
		for _, name := range []string{"meta", "events", "segments", "acks", "passes"} {
			bk, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			b[name] = bk
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		l := &Log{}
		copy(l.hashKey[:], key)
		var floor int64
		for i := 1; i <= v1Events; i++ {
			ev := v1Event(i)
			msg, err := ev.MarshalBinary()
			if err != nil {
				return err
			}
			box, seg, err := sealer.Seal(uint64(i), msg)
			if err != nil {
				return err
			}
			if seg.First == uint64(i) {
				if err := b["segments"].Put(u64(uint64(i)), seg.Header); err != nil {
					return err
				}
			}
			if i > v1Acked {
				if err := b["events"].Put(u64(uint64(i)), append(i64(ev.Wall/1e9), box...)); err != nil {
					return err
				}
			}
			if ev.Allow {
				v := append([]byte{byte(ev.Direction)}, i64(ev.Wall)...)
				if err := b["passes"].Put(l.hash(domainPass, ev.PassID), v); err != nil {
					return err
				}
			}
			floor = ev.Wall
		}
		for k, v := range map[string][]byte{
			"schema":  u32(1),
			"created": i64(v1Base.UnixNano()),
			"hashkey": key,
			"next":    u64(v1Events + 1),
			"acked":   u64(v1Acked),
			"floor":   i64(floor),
		} {
			if err := b["meta"].Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestGenerateTestdata regenerates testdata/ with -update.
func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/")
	}
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := priv.MarshalText()
	if err := os.WriteFile("testdata/hub-v1.key", append(text, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove("testdata/log-v1.db")
	if err := writeLogV1("testdata/log-v1.db", priv.Public()); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrations opens a log of every earlier schema, kept in testdata/.
func TestMigrations(t *testing.T) {
	for v := 1; v < LogSchema; v++ {
		if _, err := os.Stat(fmt.Sprintf("testdata/log-v%d.db", v)); err != nil {
			t.Errorf("no test file for schema %d: %v", v, err)
		}
	}
	t.Run("v1", testMigrateV1)
	t.Run("v2", testMigrateV2)
}

// testHubKey reads the hub key the test logs are sealed to.
func testHubKey(t *testing.T) *seal.PrivateKey {
	t.Helper()
	keyText, err := os.ReadFile("testdata/hub-v1.key")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := seal.ParsePrivateKey(strings.TrimSpace(string(keyText)))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func testMigrateV1(t *testing.T) {
	priv := testHubKey(t)
	hub := seal.NewOpener(priv)
	path := filepath.Join(t.TempDir(), "events.db")
	copyFile(t, "testdata/log-v1.db", path)

	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), StateHorizon: 365 * 24 * time.Hour, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Schema != LogSchema || l.Recovery() != nil || !st.LastCheck.OK {
		t.Fatalf("after migration: schema %d, recovery %v, check %+v", st.Schema, l.Recovery(), st.LastCheck)
	}
	if st.NextSeq != v1Events+1 || st.AckedThrough != v1Acked || st.Pending != v1Events-v1Acked {
		t.Fatalf("after migration: next %d, acked %d, pending %d", st.NextSeq, st.AckedThrough, st.Pending)
	}
	if want := time.Unix(0, v1Event(v1Events).Wall).UTC(); !l.TimeFloor().Equal(want) {
		t.Fatalf("time floor %v, want %v", l.TimeFloor(), want)
	}
	// Every pending event opens to what schema 1 wrote.
	p, err := l.Pending(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != v1Events-v1Acked {
		t.Fatalf("%d pending", len(p))
	}
	for _, s := range p {
		msg, err := hub.Open(s.Header, s.Seq, s.Box)
		if err != nil {
			t.Fatalf("event %d: %v", s.Seq, err)
		}
		want, _ := v1Event(int(s.Seq)).MarshalBinary()
		if !bytes.Equal(msg, want) {
			t.Fatalf("event %d changed in migration", s.Seq)
		}
	}
	// The pass state came across.
	last := map[string]*scanner.Event{}
	for i := 1; i <= v1Events; i++ {
		if ev := v1Event(i); ev.Allow {
			last[string(ev.PassID)] = ev
		}
	}
	for id, ev := range last {
		dir, at, ok, err := l.LastSeen("v1-issuer", []byte(id))
		if err != nil || !ok || dir != ev.Direction || at.UnixNano() != ev.Wall {
			t.Fatalf("LastSeen(%s) = %v %v %v %v, want %v at %v", id, dir, at, ok, err, ev.Direction, ev.WallTime())
		}
	}
	// Household exits are new in schema 2.
	hh := v1Event(1).Household
	if n, err := l.HouseholdExits("v1-issuer", hh, v1Base); err != nil || n != 0 {
		t.Fatalf("HouseholdExits after migration = %d, %v", n, err)
	}
	ev := v1Event(1)
	ev.Direction, ev.Allow, ev.Wall = scanner.Exit, true, v1Base.Add(2*time.Hour).UnixNano()
	seq, err := l.Append(ev)
	if err != nil || seq != v1Events+1 {
		t.Fatalf("append after migration: %d, %v", seq, err)
	}
	if n, err := l.HouseholdExits("v1-issuer", hh, v1Base); err != nil || n != 1 {
		t.Fatalf("HouseholdExits = %d, %v; want 1", n, err)
	}
	// The expiry index was built for the migrated pass state.
	if err := l.RaiseTimeFloor(v1Base.Add(400 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Stats(); st.Passes != 0 || st.HouseholdExits != 0 {
		t.Fatalf("after the horizon: %d passes, %d exits left", st.Passes, st.HouseholdExits)
	}
	// A migrated log reopens as it is.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Stats(); st.Schema != LogSchema || st.NextSeq != v1Events+2 {
		t.Fatalf("reopened: schema %d, next %d", st.Schema, st.NextSeq)
	}
}

const v2Events = 30

var v2Base = time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)

// v2Event is event number i of the schema-2 test log. testdata/log-v2.db
// (with its sidecar) was written by the schema-2 build (commit baba4be):
// OpenLog with hub-v1.key's public key and a 365-day state horizon, then
// Append of v2Event(1) to v2Event(30), then Close; copied compact with
// bbolt's Tx.CopyFile. This build cannot write schema 2: keep the file.
func v2Event(i int) *scanner.Event {
	return &scanner.Event{
		BootID: [16]byte{'v', '2'}, Mono: time.Duration(i) * time.Minute,
		Wall: v2Base.Add(time.Duration(i) * time.Minute).UnixNano(), WallTrusted: true,
		Site: "v2-site", Direction: scanner.Direction(i % 2), Allow: i%4 != 3, Reason: scanner.ReasonOK,
		Issuer: "v2-issuer", PassID: []byte(fmt.Sprintf("v2-pass-%02d", i%8)),
		Household: []byte(fmt.Sprintf("v2-hh-%d", i%3)), Holder: fmt.Sprintf("V2 %d", i),
	}
}

// copyV2 copies the schema-2 test log, with its sidecar, into a temporary
// folder, and returns its path and the options to open it with.
func copyV2(t *testing.T, horizon time.Duration) (string, LogOptions) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	copyFile(t, "testdata/log-v2.db", path)
	copyFile(t, "testdata/log-v2.db.sidecar", path+".sidecar")
	return path, LogOptions{Hub: testHubKey(t).Public(), StateHorizon: horizon, Logger: quietLog}
}

// Schema 2 kept gate state by pass and household ID alone; schema 3 by
// issuer and ID. The old state cannot be re-keyed, so a migrated log
// counts it for an ID whatever the issuer, until it expires; what is
// recorded after the migration is the issuer's own.
func testMigrateV2(t *testing.T) {
	path, opt := copyV2(t, 365*24*time.Hour)
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Schema != LogSchema || l.Recovery() != nil || !st.LastCheck.OK || st.NextSeq != v2Events+1 || st.Pending != v2Events {
		t.Fatalf("after migration: schema %d, recovery %v, check %+v, next %d, pending %d", st.Schema, l.Recovery(), st.LastCheck, st.NextSeq, st.Pending)
	}
	last, exits := map[string]*scanner.Event{}, map[string]int{}
	for i := 1; i <= v2Events; i++ {
		if ev := v2Event(i); ev.Allow {
			last[string(ev.PassID)] = ev
			if ev.Direction == scanner.Exit {
				exits[string(ev.Household)]++
			}
		}
	}
	if len(last) == 0 || len(exits) == 0 {
		t.Fatal("the test log has no state to carry")
	}
	if got, want := l.unscoped.Load(), v2Event(v2Events).Wall; got != want { // its pass's last passage
		t.Errorf("meta/unscoped %v, want the latest stamp of the old state, %v", time.Unix(0, got).UTC(), v2Event(v2Events).WallTime())
	}
	// The old state counts for the ID, from its issuer or another.
	for round, issuer := range []string{"v2-issuer", "v2-other-issuer"} {
		for id, ev := range last {
			dir, at, ok, err := l.LastSeen(issuer, []byte(id))
			if err != nil || !ok || dir != ev.Direction || at.UnixNano() != ev.Wall {
				t.Fatalf("round %d: LastSeen(%s, %s) = %v %v %v %v, want %v at %v", round, issuer, id, dir, at, ok, err, ev.Direction, ev.WallTime())
			}
		}
		for hh, want := range exits {
			if n, err := l.HouseholdExits(issuer, []byte(hh), v2Base); err != nil || n != want {
				t.Fatalf("round %d: HouseholdExits(%s, %s) = %d, %v; want %d", round, issuer, hh, n, err, want)
			}
		}
	}
	// New passages are the issuer's own, on top of the old ones.
	hh := v2Event(1).Household
	ev := v2Event(1)
	ev.Issuer, ev.Direction, ev.Wall = "v2-other-issuer", scanner.Exit, v2Base.Add(2*time.Hour).UnixNano()
	if _, err := l.Append(ev); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		if n, _ := l.HouseholdExits("v2-other-issuer", hh, v2Base); n != exits[string(hh)]+1 {
			t.Errorf("%s: the other issuer's household: %d exits, want %d", what, n, exits[string(hh)]+1)
		}
		if n, _ := l.HouseholdExits("v2-issuer", hh, v2Base); n != exits[string(hh)] {
			t.Errorf("%s: the first issuer's household: %d exits, want %d", what, n, exits[string(hh)])
		}
		if dir, at, ok, _ := l.LastSeen("v2-other-issuer", ev.PassID); !ok || dir != scanner.Exit || at.UnixNano() != ev.Wall {
			t.Errorf("%s: the other issuer's pass: %v %v %v, want its exit", what, dir, at, ok)
		}
		if _, at, ok, _ := l.LastSeen("v2-issuer", ev.PassID); !ok || at.UnixNano() != last[string(ev.PassID)].Wall {
			t.Errorf("%s: the first issuer's pass: %v %v, want its old passage", what, at, ok)
		}
	}
	check("after the migration")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenLog(path, opt); err != nil {
		t.Fatal(err)
	}
	check("reopened")
	// The old state expires as any does.
	if err := l.RaiseTimeFloor(v2Base.Add(366*24*time.Hour + 3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Stats(); st.Passes != 0 || st.HouseholdExits != 0 {
		t.Fatalf("after the horizon: %d passes, %d exits left", st.Passes, st.HouseholdExits)
	}
}

// The state kept from schema 2 is looked up until the time floor is a
// horizon past its latest stamp, which moves with it when ShiftState
// moves it.
func TestUnscopedStateInSight(t *testing.T) {
	path, opt := copyV2(t, 7*24*time.Hour)
	l, err := OpenLog(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	last := v2Event(v2Events)
	const by = 10 * 24 * time.Hour
	if _, err := l.ShiftState(v2Base, last.WallTime(), by, false); err != nil {
		t.Fatal(err)
	}
	moved := last.WallTime().Add(by)
	if got := l.unscoped.Load(); got != moved.UnixNano() {
		t.Fatalf("meta/unscoped %v after the shift, want %v", time.Unix(0, got).UTC(), moved)
	}
	seen := func(what string, want bool) {
		t.Helper()
		if _, _, ok, err := l.LastSeen("v2-other-issuer", last.PassID); err != nil || ok != want || l.unscopedInSight() != want {
			t.Errorf("%s: old state found %v (%v), in sight %v; want %v", what, ok, err, l.unscopedInSight(), want)
		}
	}
	if err := l.RaiseTimeFloor(moved.Add(opt.StateHorizon - time.Minute)); err != nil {
		t.Fatal(err)
	}
	seen("a minute before the horizon passes it", true)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenLog(path, opt); err != nil {
		t.Fatal(err)
	}
	seen("reopened", true)
	if err := l.RaiseTimeFloor(moved.Add(opt.StateHorizon + time.Minute)); err != nil {
		t.Fatal(err)
	}
	seen("past the horizon", false)
}

func TestNewerSchemaRefused(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u32(LogSchema+1)) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for range maxOpenAttempts + 1 {
		if _, err := OpenLog(path, LogOptions{Hub: priv.Public(), Logger: quietLog}); !errors.Is(err, ErrSchema) {
			t.Fatalf("OpenLog of a newer schema: %v, want ErrSchema", err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("a log of a newer schema was changed")
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("a log of a newer schema was moved aside: %v", m)
	}
}
