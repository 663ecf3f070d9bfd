package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// Log is the event log interface the contract tests.
type Log interface {
	// Append stores ev durably and returns its sequence.
	Append(ev *scanner.Event) (uint64, error)
	// Pending returns up to limit unacknowledged events after a sequence.
	Pending(after uint64, limit int) ([]store.Sealed, error)
	// Ack acknowledges every event through a sequence.
	Ack(through uint64) error
	// LastSeen returns the last allowed passage of an issuer's pass.
	LastSeen(issuer string, passID []byte) (scanner.Direction, time.Time, bool, error)
	// HouseholdExits counts an issuer's household's allowed exits since
	// a time.
	HouseholdExits(issuer string, household []byte, since time.Time) (int, error)
	// TimeFloor returns the time floor.
	TimeFloor() time.Time
	// RaiseTimeFloor raises the time floor.
	RaiseTimeFloor(t time.Time) error
	// Close closes the log.
	Close() error
}

// Config is what the contract asks of the log it opens.
type Config struct {
	Hub          seal.PublicKey // seal events to this key
	StateHorizon time.Duration  // keep gate state this long
}

// OpenFunc opens (or reopens) the log kept in dir with cfg. The contract
// calls it again on the same dir after Close to test durability, and closes
// every log it opens.
type OpenFunc func(t *testing.T, dir string, cfg Config) Log

// horizon is the state horizon the contract configures.
const horizon = 48 * time.Hour

// base is the wall time of the contract's first event.
var base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

type harness struct {
	t    *testing.T
	open OpenFunc
	dir  string
	cfg  Config
	hub  *seal.Opener
	log  Log
}

func newHarness(t *testing.T, open OpenFunc) *harness {
	t.Helper()
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t:    t,
		open: open,
		dir:  t.TempDir(),
		cfg:  Config{Hub: priv.Public(), StateHorizon: horizon},
		hub:  seal.NewOpener(priv),
	}
	h.log = open(t, h.dir, h.cfg)
	t.Cleanup(func() {
		if h.log != nil {
			_ = h.log.Close()
		}
	})
	return h
}

func (h *harness) reopen() {
	h.t.Helper()
	if err := h.log.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	h.log = nil
	h.log = h.open(h.t, h.dir, h.cfg)
}

func (h *harness) append(ev *scanner.Event) uint64 {
	h.t.Helper()
	seq, err := h.log.Append(ev)
	if err != nil {
		h.t.Fatalf("Append: %v", err)
	}
	if ev.Seq != seq {
		h.t.Fatalf("Append returned %d but set ev.Seq to %d", seq, ev.Seq)
	}
	return seq
}

func (h *harness) pending(after uint64) []store.Sealed {
	h.t.Helper()
	p, err := h.log.Pending(after, 1<<20)
	if err != nil {
		h.t.Fatalf("Pending: %v", err)
	}
	return p
}

func (h *harness) openEvent(s store.Sealed) scanner.Event {
	h.t.Helper()
	msg, err := h.hub.Open(s.Header, s.Seq, s.Box)
	if err != nil {
		h.t.Fatalf("hub cannot open event %d: %v", s.Seq, err)
	}
	var ev scanner.Event
	if err := ev.UnmarshalBinary(msg); err != nil {
		h.t.Fatalf("event %d: %v", s.Seq, err)
	}
	if ev.Seq != s.Seq {
		h.t.Fatalf("event stored under %d says it is %d", s.Seq, ev.Seq)
	}
	return ev
}

// Event returns a test event about pass i of household i%7 at base+at.
func Event(i int, dir scanner.Direction, allow bool, at time.Duration) *scanner.Event {
	return &scanner.Event{
		BootID:      [16]byte{1, 2, 3},
		Mono:        at,
		Wall:        base.Add(at).UnixNano(),
		WallTrusted: true,
		Site:        "north-gate",
		Direction:   dir,
		Allow:       allow,
		Reason:      scanner.ReasonOK,
		Issuer:      Issuer,
		PassID:      PassID(i),
		Household:   HouseholdID(i % 7),
		Holder:      fmt.Sprintf("HC %d-%d", i%7, i),
		Class:       scanner.Resident,
	}
}

// Issuer issues the contract's passes.
const Issuer = "district-7"

// PassID returns the contract's pass ID number i.
func PassID(i int) []byte { return []byte(fmt.Sprintf("pass-id-%08d", i)) }

// HouseholdID returns the contract's household ID number i.
func HouseholdID(i int) []byte { return []byte(fmt.Sprintf("household-%06d", i)) }

// RunLogContract runs the contract against the log that open opens.
func RunLogContract(t *testing.T, open OpenFunc) {
	t.Run("Sequences", func(t *testing.T) { testSequences(t, open) })
	t.Run("PendingOpensToEvent", func(t *testing.T) { testPendingOpens(t, open) })
	t.Run("Ack", func(t *testing.T) { testAck(t, open) })
	t.Run("DurableAcrossReopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("AckPastEnd", func(t *testing.T) { testAckPastEnd(t, open) })
	t.Run("LastSeen", func(t *testing.T) { testLastSeen(t, open) })
	t.Run("HouseholdExits", func(t *testing.T) { testHouseholdExits(t, open) })
	t.Run("StatePerIssuer", func(t *testing.T) { testStatePerIssuer(t, open) })
	t.Run("OverrideUndoesPassage", func(t *testing.T) { testOverrideUndoesPassage(t, open) })
	t.Run("StateExpires", func(t *testing.T) { testExpiry(t, open) })
	t.Run("TimeFloor", func(t *testing.T) { testTimeFloor(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open) })
}

func testSequences(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	if _, err := h.log.Append(nil); err == nil {
		t.Error("Append(nil) succeeded")
	}
	var first uint64
	for i := range 20 {
		seq := h.append(Event(i, scanner.Entry, true, time.Duration(i)*time.Second))
		if i == 0 {
			if seq == 0 {
				t.Fatal("first sequence is 0")
			}
			first = seq
		} else if seq != first+uint64(i) {
			t.Fatalf("event %d got sequence %d, want %d", i, seq, first+uint64(i))
		}
	}
}

func testPendingOpens(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	want := map[uint64]*scanner.Event{}
	for i := range 600 { // more than one segment at the default size
		ev := Event(i, scanner.Direction(i%2), i%3 != 0, time.Duration(i)*time.Second)
		if i%5 == 0 {
			ev.PassID, ev.Household, ev.Holder, ev.Reason, ev.Allow = nil, nil, "", scanner.ReasonMalformed, false
		}
		want[h.append(ev)] = ev
	}
	p := h.pending(0)
	if len(p) != len(want) {
		t.Fatalf("Pending returned %d events, want %d", len(p), len(want))
	}
	for i, s := range p {
		if i > 0 && s.Seq != p[i-1].Seq+1 {
			t.Fatalf("Pending out of order: %d after %d", s.Seq, p[i-1].Seq)
		}
		for _, secret := range [][]byte{want[s.Seq].PassID, want[s.Seq].Household, []byte(want[s.Seq].Holder)} {
			if len(secret) > 0 && bytes.Contains(s.Box, secret) {
				t.Fatalf("event %d: sealed box holds %q in the clear", s.Seq, secret)
			}
		}
		got := h.openEvent(s)
		w := want[s.Seq]
		if got.Wall != w.Wall || !bytes.Equal(got.PassID, w.PassID) || !bytes.Equal(got.Household, w.Household) ||
			got.Holder != w.Holder || got.Allow != w.Allow || got.Direction != w.Direction || got.Mono != w.Mono ||
			got.BootID != w.BootID || got.WallTrusted != w.WallTrusted || got.Reason != w.Reason {
			t.Fatalf("event %d: opened %+v, appended %+v", s.Seq, got, *w)
		}
	}
	// after and limit.
	mid := p[100].Seq
	q, err := h.log.Pending(mid, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 7 || q[0].Seq != mid+1 || q[6].Seq != mid+7 {
		t.Fatalf("Pending(%d, 7) returned %d events from %v", mid, len(q), firstSeq(q))
	}
	if q, _ := h.log.Pending(p[len(p)-1].Seq, 10); len(q) != 0 {
		t.Fatalf("Pending after the last event returned %d events", len(q))
	}
	if q, _ := h.log.Pending(0, 0); len(q) != 0 {
		t.Fatalf("Pending with limit 0 returned %d events", len(q))
	}
}

func firstSeq(p []store.Sealed) any {
	if len(p) == 0 {
		return "none"
	}
	return p[0].Seq
}

func testAck(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	var seqs []uint64
	for i := range 30 {
		seqs = append(seqs, h.append(Event(i, scanner.Entry, true, time.Duration(i)*time.Second)))
	}
	if err := h.log.Ack(seqs[9]); err != nil {
		t.Fatal(err)
	}
	p := h.pending(0)
	if len(p) != 20 || p[0].Seq != seqs[10] {
		t.Fatalf("after Ack(%d): %d pending from %v", seqs[9], len(p), firstSeq(p))
	}
	for _, again := range []uint64{seqs[9], seqs[3], 0} {
		if err := h.log.Ack(again); err != nil {
			t.Fatalf("Ack(%d) again: %v", again, err)
		}
	}
	if p := h.pending(0); len(p) != 20 {
		t.Fatalf("acking less changed pending to %d", len(p))
	}
	// Pending after a sequence below the ack point starts at the ack point.
	if p := h.pending(seqs[2]); len(p) != 20 || p[0].Seq != seqs[10] {
		t.Fatalf("Pending(%d) after Ack: %d from %v", seqs[2], len(p), firstSeq(p))
	}
	// Remaining events still open after acks deleted the older ones (the
	// segment header they need is kept).
	for _, s := range h.pending(0) {
		h.openEvent(s)
	}
	if err := h.log.Ack(seqs[29]); err != nil {
		t.Fatal(err)
	}
	if p := h.pending(0); len(p) != 0 {
		t.Fatalf("after acking all, %d pending", len(p))
	}
	// The log goes on after everything was acknowledged.
	s := h.append(Event(99, scanner.Entry, true, time.Hour))
	if s != seqs[29]+1 {
		t.Fatalf("after acking all, next sequence %d, want %d", s, seqs[29]+1)
	}
	p = h.pending(0)
	if len(p) != 1 {
		t.Fatalf("%d pending, want 1", len(p))
	}
	h.openEvent(p[0])
}

func testReopen(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	var last uint64
	for i := range 10 {
		last = h.append(Event(i, scanner.Exit, true, time.Duration(i)*time.Minute))
	}
	h.reopen()
	p := h.pending(0)
	if len(p) != 10 || p[9].Seq != last {
		t.Fatalf("after reopen: %d pending, last %v; want 10, last %d", len(p), p[len(p)-1].Seq, last)
	}
	for _, s := range p {
		h.openEvent(s)
	}
	if dir, _, ok, err := h.log.LastSeen(Issuer, PassID(9)); err != nil || !ok || dir != scanner.Exit {
		t.Fatalf("after reopen LastSeen: %v %v %v", dir, ok, err)
	}
	if err := h.log.Ack(last); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	seq := h.append(Event(10, scanner.Entry, true, time.Hour))
	if seq != last+1 {
		t.Fatalf("after ack and reopen, next sequence %d, want %d", seq, last+1)
	}
	// Events appended after a reopen (a new segment) open too.
	for _, s := range h.pending(0) {
		h.openEvent(s)
	}
}

func testAckPastEnd(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	last := h.append(Event(0, scanner.Entry, true, 0))
	if err := h.log.Ack(last + 50); err != nil {
		t.Fatalf("Ack past the end: %v", err)
	}
	if p := h.pending(0); len(p) != 0 {
		t.Fatalf("%d pending after acking past the end", len(p))
	}
	if seq := h.append(Event(1, scanner.Entry, true, time.Second)); seq <= last+50 {
		t.Fatalf("sequence %d reuses one the hub acknowledged (through %d)", seq, last+50)
	}
	h.reopen()
	if seq := h.append(Event(2, scanner.Entry, true, 2*time.Second)); seq <= last+51 {
		t.Fatalf("after reopen, sequence %d reuses one already used", seq)
	}
}

func testLastSeen(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	if _, _, ok, err := h.log.LastSeen(Issuer, PassID(1)); err != nil || ok {
		t.Fatalf("LastSeen of an unseen pass: ok=%v err=%v", ok, err)
	}
	h.append(Event(1, scanner.Entry, true, time.Minute))
	dir, at, ok, err := h.log.LastSeen(Issuer, PassID(1))
	if err != nil || !ok || dir != scanner.Entry || !at.Equal(base.Add(time.Minute)) {
		t.Fatalf("after entry: %v %v %v %v", dir, at, ok, err)
	}
	// A denied exit changes nothing: the holder did not pass.
	h.append(Event(1, scanner.Exit, false, 2*time.Minute))
	if dir, _, _, _ := h.log.LastSeen(Issuer, PassID(1)); dir != scanner.Entry {
		t.Fatalf("denied exit changed the last direction to %v", dir)
	}
	h.append(Event(1, scanner.Exit, true, 3*time.Minute))
	dir, at, ok, err = h.log.LastSeen(Issuer, PassID(1))
	if err != nil || !ok || dir != scanner.Exit || !at.Equal(base.Add(3*time.Minute)) {
		t.Fatalf("after exit: %v %v %v %v", dir, at, ok, err)
	}
	if _, _, ok, _ := h.log.LastSeen(Issuer, PassID(2)); ok {
		t.Fatal("another pass has state")
	}
	if _, _, ok, _ := h.log.LastSeen(Issuer, nil); ok {
		t.Fatal("an empty pass ID has state")
	}
}

// An ID is its issuer's own: another issuer's pass or household with the
// same ID has state of its own, in the log and after a reopen.
func testStatePerIssuer(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	const other = "district-8"
	h.append(Event(0, scanner.Exit, true, time.Hour))
	ev := Event(0, scanner.Entry, true, 2*time.Hour) // same pass and household IDs
	ev.Issuer = other
	h.append(ev)
	for round := range 2 {
		if dir, _, ok, err := h.log.LastSeen(Issuer, PassID(0)); err != nil || !ok || dir != scanner.Exit {
			t.Errorf("round %d: %s's pass: %v %v %v, want its exit", round, Issuer, dir, ok, err)
		}
		if dir, _, ok, err := h.log.LastSeen(other, PassID(0)); err != nil || !ok || dir != scanner.Entry {
			t.Errorf("round %d: %s's pass: %v %v %v, want its entry", round, other, dir, ok, err)
		}
		// Issuer and ID are kept apart: "district-" and "7pass-id-…" are
		// not "district-7" and "pass-id-…".
		if _, _, ok, err := h.log.LastSeen(Issuer[:len(Issuer)-1], append([]byte(Issuer[len(Issuer)-1:]), PassID(0)...)); err != nil || ok {
			t.Errorf("round %d: a third issuer's pass has state: %v %v", round, ok, err)
		}
		if n, err := h.log.HouseholdExits(Issuer, HouseholdID(0), base); err != nil || n != 1 {
			t.Errorf("round %d: %s's household: %d exits, %v; want 1", round, Issuer, n, err)
		}
		if n, err := h.log.HouseholdExits(other, HouseholdID(0), base); err != nil || n != 0 {
			t.Errorf("round %d: %s's household: %d exits, %v; want 0", round, other, n, err)
		}
		h.reopen()
	}
}

// An override that keeps back a holder an allowed read let through
// (denied, Overrides naming that read) undoes the read's passage: the
// pass is on the side it was on, the household's exit is not counted. An
// override that lets a holder through counts as a passage.
func testOverrideUndoesPassage(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	h.append(Event(7, scanner.Exit, true, time.Hour))
	seq := h.append(Event(0, scanner.Exit, true, 2*time.Hour)) // household 0, as pass 7
	undo := Event(0, scanner.Exit, false, 2*time.Hour+time.Minute)
	undo.Reason, undo.Override, undo.Overrides = scanner.ReasonOverride, "not the holder", seq
	h.append(undo)
	for round := range 2 {
		if n, err := h.log.HouseholdExits(Issuer, HouseholdID(0), base); err != nil || n != 1 {
			t.Errorf("round %d: household 0: %d exits, %v; want pass 7's alone", round, n, err)
		}
		if dir, _, ok, err := h.log.LastSeen(Issuer, PassID(0)); err != nil || !ok || dir != scanner.Entry {
			t.Errorf("round %d: pass 0 kept back at the exit: %v %v %v, want inside (entry)", round, dir, ok, err)
		}
		h.reopen()
	}
	// A pass that went the other way since keeps that passage.
	out := h.append(Event(1, scanner.Exit, true, 2*time.Hour))
	h.append(Event(1, scanner.Entry, true, 2*time.Hour+time.Minute))
	undo = Event(1, scanner.Exit, false, 2*time.Hour+2*time.Minute)
	undo.Reason, undo.Override, undo.Overrides = scanner.ReasonOverride, "not the holder", out
	h.append(undo)
	if dir, at, _, err := h.log.LastSeen(Issuer, PassID(1)); err != nil || dir != scanner.Entry || !at.Equal(base.Add(2*time.Hour+time.Minute)) {
		t.Errorf("pass 1, back in before the override: %v at %v, %v; want its entry", dir, at, err)
	}
	let := Event(0, scanner.Exit, true, 3*time.Hour)
	let.Reason, let.Override, let.Overrides = scanner.ReasonOverride, "medical appointment", seq+1
	h.append(let)
	if n, err := h.log.HouseholdExits(Issuer, HouseholdID(0), base); err != nil || n != 2 {
		t.Errorf("household 0 after an override let pass 0 out: %d exits, %v; want 2", n, err)
	}
	if dir, _, _, err := h.log.LastSeen(Issuer, PassID(0)); err != nil || dir != scanner.Exit {
		t.Errorf("pass 0 let out: %v, %v", dir, err)
	}
}

func testHouseholdExits(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	// Passes 0, 7, 14 are household 0; pass 1 is household 1.
	h.append(Event(0, scanner.Exit, true, 1*time.Hour))
	h.append(Event(7, scanner.Exit, true, 2*time.Hour))
	h.append(Event(14, scanner.Exit, false, 3*time.Hour)) // denied
	h.append(Event(14, scanner.Entry, true, 4*time.Hour)) // an entry
	h.append(Event(1, scanner.Exit, true, 5*time.Hour))   // another household
	for _, c := range []struct {
		since time.Duration
		want  int
	}{{0, 2}, {time.Hour, 2}, {time.Hour + 1, 1}, {2 * time.Hour, 1}, {3 * time.Hour, 0}} {
		n, err := h.log.HouseholdExits(Issuer, HouseholdID(0), base.Add(c.since))
		if err != nil || n != c.want {
			t.Errorf("HouseholdExits(0, base+%v) = %d, %v; want %d", c.since, n, err, c.want)
		}
	}
	if n, err := h.log.HouseholdExits(Issuer, HouseholdID(1), base); err != nil || n != 1 {
		t.Errorf("HouseholdExits(1) = %d, %v; want 1", n, err)
	}
	if n, err := h.log.HouseholdExits(Issuer, HouseholdID(5), base); err != nil || n != 0 {
		t.Errorf("HouseholdExits(5) = %d, %v; want 0", n, err)
	}
	h.reopen()
	if n, err := h.log.HouseholdExits(Issuer, HouseholdID(0), base); err != nil || n != 2 {
		t.Errorf("after reopen, HouseholdExits(0) = %d, %v; want 2", n, err)
	}
}

func testExpiry(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	h.append(Event(0, scanner.Exit, true, 0))
	h.append(Event(7, scanner.Exit, true, time.Hour))
	if n, _ := h.log.HouseholdExits(Issuer, HouseholdID(0), base); n != 2 {
		t.Fatalf("HouseholdExits = %d, want 2", n)
	}
	// An event past the horizon of the first exit only.
	h.append(Event(3, scanner.Entry, true, horizon+time.Minute))
	if _, _, ok, _ := h.log.LastSeen(Issuer, PassID(0)); ok {
		t.Error("pass state outlived the horizon")
	}
	if _, _, ok, _ := h.log.LastSeen(Issuer, PassID(7)); !ok {
		t.Error("pass state inside the horizon is gone")
	}
	if n, _ := h.log.HouseholdExits(Issuer, HouseholdID(0), base.Add(-time.Hour)); n != 1 {
		t.Errorf("HouseholdExits after expiry = %d, want 1", n)
	}
	// Raising the floor expires too, with no event.
	if err := h.log.RaiseTimeFloor(base.Add(horizon + 2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := h.log.LastSeen(Issuer, PassID(7)); ok {
		t.Error("pass state outlived the horizon after RaiseTimeFloor")
	}
	if n, _ := h.log.HouseholdExits(Issuer, HouseholdID(0), time.Time{}); n != 0 {
		t.Errorf("HouseholdExits after RaiseTimeFloor = %d, want 0", n)
	}
	if _, _, ok, _ := h.log.LastSeen(Issuer, PassID(3)); !ok {
		t.Error("recent pass state is gone")
	}
}

func testTimeFloor(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	if f := h.log.TimeFloor(); !f.IsZero() && !f.Before(base) {
		t.Fatalf("new log has floor %v", f)
	}
	h.append(Event(0, scanner.Entry, true, time.Hour))
	if f := h.log.TimeFloor(); !f.Equal(base.Add(time.Hour)) {
		t.Fatalf("floor after an event is %v, want %v", f, base.Add(time.Hour))
	}
	if err := h.log.RaiseTimeFloor(base); err != nil {
		t.Fatal(err)
	}
	if f := h.log.TimeFloor(); !f.Equal(base.Add(time.Hour)) {
		t.Fatalf("floor went down to %v", f)
	}
	// An event with an earlier wall time (an untrusted clock) does not
	// lower it either.
	h.append(Event(1, scanner.Entry, true, time.Minute))
	if f := h.log.TimeFloor(); !f.Equal(base.Add(time.Hour)) {
		t.Fatalf("floor went down to %v", f)
	}
	if err := h.log.RaiseTimeFloor(base.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if f := h.log.TimeFloor(); !f.Equal(base.Add(2 * time.Hour)) {
		t.Fatalf("floor after reopen is %v, want %v", f, base.Add(2*time.Hour))
	}
}

func testConcurrent(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	seqs := make(chan uint64, writers*each)
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				seq, err := h.log.Append(Event(n, scanner.Direction(n%2), true, time.Duration(n)*time.Second))
				if err != nil {
					errs <- err
					return
				}
				seqs <- seq
				if _, _, _, err := h.log.LastSeen(Issuer, PassID(n)); err != nil {
					errs <- err
				}
				if _, err := h.log.Pending(0, 10); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("sequence %d given twice", s)
		}
		seen[s] = true
	}
	if p := h.pending(0); len(p) != writers*each {
		t.Fatalf("%d pending, want %d", len(p), writers*each)
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	h := newHarness(t, open)
	h.append(Event(0, scanner.Entry, true, 0))
	if err := h.log.Close(); err != nil {
		t.Fatal(err)
	}
	l := h.log
	h.log = nil
	check := func(name string, err error) {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want store.ErrClosed", name, err)
		}
	}
	_, err := l.Append(Event(1, scanner.Entry, true, time.Second))
	check("Append", err)
	_, err = l.Pending(0, 10)
	check("Pending", err)
	check("Ack", l.Ack(1))
	_, _, _, err = l.LastSeen(Issuer, PassID(0))
	check("LastSeen", err)
	_, err = l.HouseholdExits(Issuer, HouseholdID(0), base)
	check("HouseholdExits", err)
	check("RaiseTimeFloor", l.RaiseTimeFloor(base.Add(time.Hour)))
	check("Close", l.Close())
}
