package gate_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/output"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func key(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("gate test " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

var (
	root   = key("root")
	issuer = key("issuer")
	// The issuers the rig's key set trusts, by name; passes are
	// compound-7's unless they say otherwise.
	issuers = map[string]ed25519.PrivateKey{"compound-7": issuer, "compound-9": key("issuer 9")}
)

// rig is a gate wired to real parts: a bbolt event log in a temp dir, the
// real QR decoder, JSON lines into a buffer, a relay on a fake pin.
type rig struct {
	t      testing.TB
	g      *gate.Gate
	log    *store.Log
	path   string // of the log
	hub    *seal.PrivateKey
	wall   time.Time
	mono   time.Duration // the gate's monotonic clock
	policy *scanner.Policy
	trust  *scanner.Trust
	lines  bytes.Buffer
	pin    *gpiotest.Pin
	mu     sync.Mutex
	order  []string // what happened, in order: "commit N" and "act N"
}

func newRig(t testing.TB, mod func(*scanner.Policy)) *rig {
	t.Helper()
	r := &rig{t: t, wall: t0, pin: &gpiotest.Pin{N: "GPIO17"}}
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r.hub = hub
	r.path = filepath.Join(t.TempDir(), "events.db")
	r.log, err = store.OpenLog(r.path, store.LogOptions{Hub: hub.Public(), Now: func() time.Time { return r.now() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.log.Close() })
	ks := &scanner.KeySet{Version: 1}
	for name, k := range issuers {
		pub := k.Public().(ed25519.PublicKey)
		ks.Keys = append(ks.Keys, scanner.Key{ID: scanner.KeyID(pub), Public: pub, Role: scanner.RolePassIssuer, Issuer: name})
	}
	raw, err := scanner.SignKeySet(ks, root)
	if err != nil {
		t.Fatal(err)
	}
	r.trust, err = scanner.NewTrust(root.Public().(ed25519.PublicKey)).WithKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	r.trust = r.trust.WithFreshAt(t0)
	r.policy = scanner.DefaultPolicy("north-gate")
	if mod != nil {
		mod(r.policy)
	}
	if err := r.policy.Check(); err != nil {
		t.Fatal(err)
	}
	relay, err := output.NewRelay(r.pin, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clock := gate.NewClock(t0)
	clock.Wall = r.now
	clock.Monotonic = func() time.Duration { r.mu.Lock(); defer r.mu.Unlock(); return r.mono }
	clock.Synced = func() bool { return true }
	r.g = &gate.Gate{
		Site: "north-gate", Log: probeLog{r}, Memory: r.log, Clock: clock,
		Decoder: gate.DecoderFunc(qr.Decode),
		Outputs: []gate.Output{probe{r}, output.NewJSONLines(&r.lines), relay},
		Trust:   func() *scanner.Trust { r.mu.Lock(); defer r.mu.Unlock(); return r.trust },
		Policy:  func() *scanner.Policy { r.mu.Lock(); defer r.mu.Unlock(); return r.policy },
	}
	return r
}

// restart stops the gate and starts it again on its log file, as after a
// power cut: the log reopened, a new clock from the log's time floor
// raised to the build time (as the daemon does; zero: none), its
// monotonic clock from zero, synchronised or not; nothing in memory.
func (r *rig) restart(synced bool, build time.Time) {
	r.t.Helper()
	if err := r.log.Close(); err != nil {
		r.t.Fatal(err)
	}
	l, err := store.OpenLog(r.path, store.LogOptions{Hub: r.hub.Public(), Now: r.now})
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.log, r.mono = l, 0
	r.mu.Unlock()
	clock := gate.NewClock(l.TimeFloor())
	clock.Monotonic = func() time.Duration { r.mu.Lock(); defer r.mu.Unlock(); return r.mono }
	clock.RaiseFloor(build)
	clock.Wall = r.now
	clock.Synced = func() bool { return synced }
	old := r.g
	r.g = &gate.Gate{Site: old.Site, Log: old.Log, Memory: l, Clock: clock, Decoder: old.Decoder,
		Outputs: old.Outputs, Trust: old.Trust, Policy: old.Policy}
}

// setEmergency switches the policy's emergency mode.
func (r *rig) setEmergency(on bool) {
	r.mu.Lock()
	r.policy.Emergency = on
	r.mu.Unlock()
}

func (r *rig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wall
}

// advance lets time d pass: the wall clock and the monotonic clock move.
func (r *rig) advance(d time.Duration) {
	if d < 0 {
		r.t.Fatalf("time does not pass backwards (step the wall clock instead)")
	}
	r.mu.Lock()
	r.wall = r.wall.Add(d)
	r.mono += d
	r.mu.Unlock()
}

// step steps the wall clock by d, as NTP or an operator does; no time
// passes.
func (r *rig) step(d time.Duration) {
	r.mu.Lock()
	r.wall = r.wall.Add(d)
	r.mu.Unlock()
}

// probeLog records when an event committed.
type probeLog struct{ r *rig }

func (p probeLog) Append(ev *scanner.Event) (uint64, error) {
	seq, err := p.r.log.Append(ev)
	if err == nil {
		p.r.mu.Lock()
		p.r.order = append(p.r.order, fmt.Sprintf("commit %d", seq))
		p.r.mu.Unlock()
	}
	return seq, err
}

// probe is an output that checks the event is in the log when it acts.
type probe struct{ r *rig }

func (p probe) Name() string { return "probe" }
func (p probe) Act(_ context.Context, o *gate.Outcome) error {
	p.r.mu.Lock()
	p.r.order = append(p.r.order, fmt.Sprintf("act %d", o.Seq))
	p.r.mu.Unlock()
	if o.Logged {
		pending, err := p.r.log.Pending(o.Seq-1, 1)
		if err != nil || len(pending) != 1 || pending[0].Seq != o.Seq {
			p.r.t.Errorf("event %d not in the log when the outputs act: %v", o.Seq, err)
		}
	}
	return nil
}

type passOpt func(*scanner.Pass)

// inHouse puts a pass in household h.
func inHouse(h string) passOpt { return func(p *scanner.Pass) { p.Household = []byte(h) } }

// quotaOne is a policy of one exit per household in 48 hours.
func quotaOne(p *scanner.Policy) { p.Exit.QuotaCount, p.Exit.QuotaWindow = 1, 48*time.Hour }

func (r *rig) issue(id string, opts ...passOpt) string { return r.issueWith(nil, id, opts...) }

// issueWith signs with key, or (nil) with the key of the pass's issuer.
func (r *rig) issueWith(key ed25519.PrivateKey, id string, opts ...passOpt) string {
	p := &scanner.Pass{Issuer: "compound-7", ID: []byte("pass-" + id + "-0123456"), IssuedAt: t0, NotBefore: t0,
		Expiry: t0.Add(30 * 24 * time.Hour), Household: []byte("house-1"), Holder: "A.B. 1-1", Sites: []string{"north-gate"}}
	for _, o := range opts {
		o(p)
	}
	if key == nil {
		key = issuers[p.Issuer]
	}
	text, err := scanner.IssuePass(p, key)
	if err != nil {
		r.t.Fatal(err)
	}
	return text
}

// frame renders a pass as a camera-sized frame, written as a PNG and read
// back, as the folder input and the example do.
func (r *rig) frame(text string, w, h int) *image.Gray {
	var buf bytes.Buffer
	if err := png.Encode(&buf, r.render(text, w, h)); err != nil {
		r.t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		r.t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		r.t.Fatalf("PNG read back as %T", img)
	}
	return g
}

func (r *rig) render(text string, w, h int) *image.Gray {
	code, err := qr.Encode(text, qr.Options{ModuleSize: 3})
	if err != nil {
		r.t.Fatal(err)
	}
	f := image.NewGray(image.Rect(0, 0, w, h))
	for i := range f.Pix {
		f.Pix[i] = 200
	}
	b := code.Bounds()
	off := image.Pt((w-b.Dx())/2, (h-b.Dy())/2)
	draw.Draw(f, b.Add(off), code, b.Min, draw.Src)
	return f
}

var (
	entry = gate.Input{Name: "cam-in", Direction: scanner.Entry}
	exit  = gate.Input{Name: "cam-out", Direction: scanner.Exit}
	exit2 = gate.Input{Name: "cam-out-2", Direction: scanner.Exit} // a second exit lane
)

// read feeds a frame holding the pass and returns the outcome.
func (r *rig) read(in gate.Input, text string) *gate.Outcome {
	return r.g.Handle(context.Background(), in, scanner.Read{Frame: r.frame(text, 640, 480)})
}

func (r *rig) expect(o *gate.Outcome, allow bool, reason scanner.Reason) {
	r.t.Helper()
	if o == nil {
		r.t.Fatalf("no decision, want allow=%v %s", allow, reason)
	}
	if o.Decision.Allow != allow || o.Decision.Reason != reason {
		r.t.Fatalf("decision allow=%v %s (%s), want allow=%v %s", o.Decision.Allow, o.Decision.Reason, o.Decision.Detail, allow, reason)
	}
	if !o.Logged || o.Seq == 0 {
		r.t.Fatalf("decision not logged")
	}
}

func TestAllowedReadCommitsBeforeActing(t *testing.T) {
	r := newRig(t, nil)
	o := r.read(entry, r.issue("a"))
	r.expect(o, true, scanner.ReasonOK)
	if gpio.Level(r.pin.L) != gpio.High {
		t.Error("relay not pulsed for an allow")
	}
	if strings.Join(r.order, ",") != fmt.Sprintf("commit %d,act %d", o.Seq, o.Seq) {
		t.Errorf("order %v", r.order)
	}
	var line map[string]any
	if err := json.Unmarshal(r.lines.Bytes(), &line); err != nil || line["allow"] != true || line["direction"] != "entry" {
		t.Errorf("JSON line %q", r.lines.String())
	}
	if strings.Contains(r.lines.String(), "A.B.") {
		t.Error("holder text in the JSON line")
	}
}

func TestDebounce(t *testing.T) {
	r := newRig(t, nil)
	text := r.issue("a")
	r.expect(r.read(entry, text), true, scanner.ReasonOK)
	r.advance(2 * time.Second)
	if o := r.read(entry, text); o != nil {
		t.Fatalf("a repeat within the debounce window was decided again: %v", o)
	}
	// The same pass in another image (a different QR rendering of the same
	// text is the same text; a re-issued image of the same pass ID is not)
	// is still the same pass.
	again := r.issue("a", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" })
	if o := r.read(entry, again); o != nil {
		t.Fatalf("the same pass ID in another text was decided again")
	}
	// At another input too, while the input that decided it still sees
	// it: a phone in view of the entry's camera and the exit's beside it
	// is one passage (an exit logged for a holder who went in would use up
	// the household's exit and deny the real one under anti-passback).
	for range 4 {
		r.advance(2 * time.Second)
		if o := r.read(entry, text); o != nil {
			t.Fatal("a repeat at the deciding input was decided again")
		}
		if o := r.read(exit, again); o != nil {
			t.Fatalf("the pass seen at the exit too, while the entry sees it: %s", o.Decision.Reason)
		}
	}
	// Out of sight of the entry, still in view at the exit: the same read
	// until it has been out of sight there too.
	r.advance(4 * time.Second)
	if o := r.read(exit, text); o != nil {
		t.Fatalf("the pass still in view at the exit: %s", o.Decision.Reason)
	}
	r.advance(6 * time.Second)
	r.expect(r.read(exit, text), true, scanner.ReasonOK)
	r.advance(10 * time.Second)
	if o := r.read(entry, text); o == nil {
		t.Fatal("a read after the debounce window was ignored")
	}
	st, _ := r.log.Stats()
	if st.Pending != 3 {
		t.Errorf("%d events logged, want 3", st.Pending)
	}
}

// A read's text that spells a pass's debounce key (its issuer and ID as
// the gate hashes them) is a text, not that pass: it does not hold the
// pass back.
func TestDebounceTextIsNotAPass(t *testing.T) {
	r := newRig(t, nil)
	spelt := binary.AppendUvarint([]byte("pass\x00"), uint64(len("compound-7")))
	spelt = append(append(spelt, "compound-7"...), "pass-a-0123456"...)
	r.expect(r.g.Handle(context.Background(), entry, scanner.Read{Text: string(spelt)}), false, scanner.ReasonMalformed)
	r.advance(time.Second)
	r.expect(r.g.Handle(context.Background(), entry, scanner.Read{Text: r.issue("a")}), true, scanner.ReasonOK)
}

// A holder denied at an exit whose pass the entry's camera beside it sees
// too (not decided there: the same read) is let out when emergency mode
// comes on, the code still in view: the entry's sighting, decided
// nowhere, does not hold the exit's new decision back.
func TestCrosstalkThenEmergency(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // one household
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	r.advance(500 * time.Millisecond)
	if o := r.read(entry, b); o != nil {
		t.Fatalf("the denied pass in view of the entry too: %s", o.Decision.Reason)
	}
	r.advance(500 * time.Millisecond)
	r.setEmergency(true)
	r.expect(r.read(exit, b), true, scanner.ReasonEmergency)
	r.advance(500 * time.Millisecond)
	if o := r.read(entry, b); o != nil {
		t.Fatalf("the pass let out, in view of the entry: %s", o.Decision.Reason)
	}
}

// A policy's debounce counts for at most scanner.MaxDebounce (a signed
// policy is not refused whole for it): a holder back at the input after
// that is decided and logged.
func TestDebounceBounded(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Debounce = time.Hour })
	text := r.issue("a")
	r.expect(r.read(entry, text), true, scanner.ReasonOK)
	r.advance(scanner.MaxDebounce - time.Second)
	if o := r.read(entry, text); o != nil {
		t.Fatalf("a repeat within the bound was decided again: %v", o)
	}
	r.advance(scanner.MaxDebounce + time.Second) // the sliding window restarted at the last sighting
	r.expect(r.read(entry, text), true, scanner.ReasonOK)
}

// A code held up for longer than the debounce window is still one read; it
// counts again once it has been out of sight for the window.
func TestDebounceSlides(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.QuotaCount, p.Exit.QuotaWindow = 2, 48*time.Hour })
	text := r.issue("a")
	decisions := 0
	for range 16 { // 8 s in front of the camera, a frame every 500 ms
		if o := r.read(exit, text); o != nil {
			decisions++
		}
		r.advance(500 * time.Millisecond)
	}
	if decisions != 1 {
		t.Fatalf("one sighting of 8 s gave %d decisions", decisions)
	}
	// The phone is put away and the same pass shown on paper (another
	// text): still the same read.
	if o := r.read(exit, r.issue("a", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" })); o != nil {
		t.Fatalf("the same pass in another image, straight after: %s", o.Decision.Reason)
	}
	// The household's second exit is still there for another member.
	r.expect(r.read(exit, r.issue("b")), true, scanner.ReasonOK)
	r.advance(6 * time.Second)
	r.expect(r.read(exit, text), false, scanner.ReasonQuota)
}

// A code held up while the wall clock steps, back or forward by more than
// the window, is still one read: the debounce runs on the monotonic clock.
func TestDebounceAcrossClockSteps(t *testing.T) {
	for _, jump := range []time.Duration{-time.Hour, time.Hour} {
		r := newRig(t, nil)
		r.step(3 * time.Hour) // the wall clock runs ahead of the floor...
		text := r.issue("a")
		decisions := 0
		for i := range 12 {
			if i == 6 {
				r.step(jump)
				if m := r.g.Clock.Now(); !m.Trusted { // ...so it stays trusted
					t.Fatalf("after a step of %v: %+v", jump, m)
				}
			}
			if o := r.read(entry, text); o != nil {
				decisions++
			}
			r.advance(500 * time.Millisecond)
		}
		if decisions != 1 {
			t.Errorf("clock stepped %v during one sighting: %d decisions", jump, decisions)
		}
	}
}

// A code out of sight for longer than the window is a new read, whatever
// was read meanwhile and wherever the clock stepped.
func TestDebounceEnds(t *testing.T) {
	r := newRig(t, nil)
	a := r.issue("a")
	r.expect(r.read(entry, a), true, scanner.ReasonOK)
	r.advance(4 * time.Second)
	if r.read(entry, a) != nil {
		t.Fatal("a code held up was decided twice")
	}
	r.advance(2 * time.Second) // another holder meanwhile
	r.expect(r.read(entry, r.issue("b")), true, scanner.ReasonOK)
	r.advance(3500 * time.Millisecond) // a out of sight for 5.5 s
	if r.read(entry, a) == nil {
		t.Fatal("a shown again after the window was taken for a repeat")
	}
	// The wall clock, three hours ahead of the gate's time floor, steps
	// back an hour (still trusted): every showing ten minutes apart is a
	// read.
	r.step(3 * time.Hour)
	r.advance(time.Hour)
	r.expect(r.read(entry, a), true, scanner.ReasonOK)
	r.step(-time.Hour)
	if m := r.g.Clock.Now(); !m.Trusted {
		t.Fatalf("after the step back: %+v", m)
	}
	for i := range 5 {
		r.advance(10 * time.Minute)
		if r.read(entry, a) == nil {
			t.Fatalf("showing %d after the clock stepped back was taken for a repeat", i+1)
		}
	}
}

func TestAntiPassback(t *testing.T) {
	for _, tc := range []struct {
		mode   scanner.AntiPassback
		allow  bool
		reason scanner.Reason
		flag   bool
	}{
		{scanner.PassbackOff, true, scanner.ReasonOK, false},
		{scanner.PassbackSoft, true, scanner.ReasonOK, true},
		{scanner.PassbackHard, false, scanner.ReasonAntiPassback, false},
		{scanner.PassbackTimed, false, scanner.ReasonAntiPassback, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			r := newRig(t, func(p *scanner.Policy) {
				p.Entry.AntiPassback = tc.mode
				p.Entry.PassbackWindow = time.Hour
			})
			text := r.issue("a")
			r.expect(r.read(entry, text), true, scanner.ReasonOK)
			r.advance(time.Minute)
			o := r.read(entry, text)
			r.expect(o, tc.allow, tc.reason)
			if o.Decision.Flagged != tc.flag {
				t.Errorf("flagged %v, want %v", o.Decision.Flagged, tc.flag)
			}
			// Passing the other way clears it.
			r.advance(time.Minute)
			r.expect(r.read(exit, text), true, scanner.ReasonOK)
			r.advance(time.Minute)
			r.expect(r.read(entry, text), true, scanner.ReasonOK)
			if tc.mode == scanner.PassbackTimed {
				// Past the window, a second entry is allowed.
				r.advance(2 * time.Hour)
				r.expect(r.read(entry, text), true, scanner.ReasonOK)
			}
		})
	}
}

func TestHouseholdQuota(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // same household
	other := r.issue("c", inHouse("house-2"))
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(time.Hour)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	r.expect(r.read(exit, other), true, scanner.ReasonOK)
	// Past the debounce window, another read of b; entry is not counted.
	r.advance(10 * time.Second)
	r.expect(r.read(entry, b), true, scanner.ReasonOK)
	r.advance(47*time.Hour + time.Minute)
	r.expect(r.read(exit, b), true, scanner.ReasonOK)
}

// A pass ID and a household ID are their issuer's own. At a gate that
// trusts two issuers, one's household does not use up the quota of the
// other's household with the same ID, and one pass ID from the two is two
// passes: for anti-passback, and for the debounce (read at once at one
// input, both are decided).
func TestStatePerIssuer(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) {
		quotaOne(p)
		p.Entry.AntiPassback = scanner.PassbackHard
	})
	nine := func(p *scanner.Pass) { p.Issuer = "compound-9" }
	a, a9 := r.issue("a"), r.issue("a", nine) // one pass ID, one household ID
	b, b9 := r.issue("b"), r.issue("b", nine)
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.expect(r.read(exit, a9), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	r.expect(r.read(exit, b9), false, scanner.ReasonQuota)
	r.expect(r.read(entry, a), true, scanner.ReasonOK)
	r.expect(r.read(entry, a9), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(entry, a), false, scanner.ReasonAntiPassback)
	r.expect(r.read(entry, a9), false, scanner.ReasonAntiPassback)
}

// A trusted issuer's key that signs a pass naming another issuer moves
// nobody's state, even when emergency mode lets its holder out: the
// other issuer's holder with that pass ID is not taken as gone out.
func TestForeignSignerWritesNoState(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.AntiPassback = scanner.PassbackHard })
	nine := func(p *scanner.Pass) { p.Issuer = "compound-9" }
	genuine, forged := r.issue("v", nine), r.issueWith(issuer, "v", nine) // compound-7's key, compound-9's pass ID
	r.setEmergency(true)
	r.expect(r.read(exit, forged), true, scanner.ReasonEmergency)
	r.setEmergency(false)
	r.advance(time.Minute)
	r.expect(r.read(exit, genuine), true, scanner.ReasonOK)
}

// An evacuation does not use up the households' quota: exits that only
// emergency mode let through are not counted.
func TestEmergencyExitsDoNotCount(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // same household
	r.setEmergency(true)
	r.expect(r.read(exit, a), true, scanner.ReasonOK) // allowed by the rules: counted
	r.advance(time.Hour)
	r.expect(r.read(exit, b), true, scanner.ReasonEmergency) // over the quota: let out, not counted
	r.setEmergency(false)
	r.advance(time.Minute)
	r.expect(r.read(entry, b), true, scanner.ReasonOK)
	r.advance(47 * time.Hour) // a's exit is out of the window; b's would not be
	r.expect(r.read(exit, b), true, scanner.ReasonOK)
}

func TestQuarantineClassAndColour(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.Classes = []scanner.Class{scanner.Resident, scanner.Staff} })
	q := r.issue("q", func(p *scanner.Pass) { p.QuarantineUntil = t0.Add(14 * 24 * time.Hour) })
	v := r.issue("v", func(p *scanner.Pass) { p.Class = scanner.Visitor })
	y := r.issue("y", func(p *scanner.Pass) { p.Status = scanner.Yellow })
	r.expect(r.read(entry, q), true, scanner.ReasonOK)
	r.expect(r.read(entry, v), true, scanner.ReasonOK)
	r.expect(r.read(entry, y), true, scanner.ReasonOK)
	r.advance(10 * time.Second) // past the debounce window: other reads
	r.expect(r.read(exit, q), false, scanner.ReasonQuarantine)
	r.expect(r.read(exit, v), false, scanner.ReasonClass)
	r.expect(r.read(exit, y), false, scanner.ReasonStatusYellow)
	other := r.issue("o", func(p *scanner.Pass) { p.Sites = []string{"south-gate"} })
	r.expect(r.read(entry, other), false, scanner.ReasonWrongSite)
	r.advance(15 * 24 * time.Hour)
	r.expect(r.read(exit, q), true, scanner.ReasonOK)
}

func TestStaleTrustAndEmergency(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.MaxTrustAge, p.StaleTrust = 24*time.Hour, scanner.Deny })
	text := r.issue("a")
	r.advance(25 * time.Hour)
	r.expect(r.read(entry, text), false, scanner.ReasonTrustTooOld)
	r.mu.Lock()
	r.policy.StaleTrust = scanner.AllowFlag
	r.mu.Unlock()
	r.advance(time.Minute)
	o := r.read(entry, text)
	r.expect(o, true, scanner.ReasonOK)
	if !o.Decision.Flagged {
		t.Error("stale trust allowed without a flag")
	}
	r.mu.Lock()
	r.policy.Emergency, r.policy.StaleTrust = true, scanner.Deny
	r.mu.Unlock()
	r.advance(time.Minute)
	r.expect(r.read(exit, text), true, scanner.ReasonEmergency)
	r.expect(r.read(exit, "not a pass"), true, scanner.ReasonEmergency)
	r.advance(time.Minute)
	r.expect(r.read(entry, r.issue("b")), false, scanner.ReasonTrustTooOld) // emergency opens exits only
}

// Past a fallback (stale trust, no trusted time) "allow" lets people
// through as "flag" does: flagged, for somebody to look at later.
func TestFallbackAllowIsFlagged(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.MaxTrustAge, p.StaleTrust = time.Hour, scanner.Allow })
	r.advance(2 * time.Hour)
	o := r.read(entry, r.issue("a"))
	r.expect(o, true, scanner.ReasonOK)
	if !o.Decision.Flagged || o.Decision.Detail != string(scanner.ReasonTrustTooOld) {
		t.Errorf("stale trust, allow: %+v", o.Decision)
	}
	r = newRig(t, func(p *scanner.Policy) { p.ClockUnknown = scanner.Allow })
	r.g.Clock.Synced = func() bool { return false }
	o = r.read(entry, r.issue("b"))
	r.expect(o, true, scanner.ReasonOK)
	if !o.Decision.Flagged || o.Decision.Detail != string(scanner.ReasonClockUnknown) {
		t.Errorf("clock unknown, allow: %+v", o.Decision)
	}
}

func TestOverride(t *testing.T) {
	r := newRig(t, nil)
	o, err := r.g.Override(context.Background(), entry, true, "delivery, known driver", 0)
	if err != nil || o == nil || !o.Logged || !o.Decision.Allow || o.Decision.Reason != scanner.ReasonOverride {
		t.Fatalf("override: %+v", o)
	}
	// The sealed event carries the reason; the hub can open it.
	pending, err := r.log.Pending(0, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %v %v", pending, err)
	}
	ev := openEvent(t, r.hub, pending[0])
	if ev.Override != "delivery, known driver" || ev.Reason != scanner.ReasonOverride || ev.Input != "cam-in" {
		t.Errorf("event %+v", ev)
	}
}

// An override that names a read (its seq), the input's last, reverses
// its decision and is about that read's pass: its event names the pass
// and the read, and the gate state follows what the gatekeeper decided.
// One that names no read is about nobody, however soon after a read; one
// that names a read it cannot reverse does nothing and says why.
func TestOverrideReversesARead(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) {
		quotaOne(p)
		p.Entry.AntiPassback = scanner.PassbackHard
	})
	override := func(in gate.Input, allow bool, of *gate.Outcome) {
		t.Helper()
		var read uint64
		if of != nil {
			read = of.Seq
		}
		o, err := r.g.Override(context.Background(), in, allow, "seen by the gatekeeper", read)
		if err != nil || !o.Logged || o.Decision.Allow != allow || o.Decision.Reason != scanner.ReasonOverride {
			t.Fatalf("override: %+v, %v", o, err)
		}
		pending, err := r.log.Pending(o.Seq-1, 1)
		if err != nil || len(pending) != 1 {
			t.Fatalf("override's event: %v %v", pending, err)
		}
		ev := openEvent(t, r.hub, pending[0])
		switch {
		case of == nil && (o.Overrides != 0 || o.Decision.Pass != nil || ev.Overrides != 0 || ev.PassID != nil):
			t.Fatalf("override about a pass: outcome %d, event %d %q", o.Overrides, ev.Overrides, ev.PassID)
		case of != nil && (o.Overrides != of.Seq || ev.Overrides != of.Seq ||
			!bytes.Equal(ev.PassID, of.Decision.Pass.ID) || !bytes.Equal(ev.Household, of.Decision.Pass.Household) || ev.Issuer != of.Decision.Pass.Issuer):
			t.Fatalf("override of read %d: outcome %d, event %d %q %q", of.Seq, o.Overrides, ev.Overrides, ev.PassID, ev.Household)
		}
	}
	refused := func(in gate.Input, allow bool, read uint64, why string) {
		t.Helper()
		before, _ := r.log.Stats()
		o, err := r.g.Override(context.Background(), in, allow, "seen by the gatekeeper", read)
		if err == nil || !strings.Contains(err.Error(), why) || o != nil {
			t.Fatalf("override of read %d: %+v, %v; want refused: %s", read, o, err, why)
		}
		if after, _ := r.log.Stats(); after.NextSeq != before.NextSeq {
			t.Fatalf("a refused override logged %d events", after.NextSeq-before.NextSeq)
		}
	}
	exits := func(h string) int {
		t.Helper()
		n, err := r.log.HouseholdExits("compound-7", []byte(h), r.now().Add(-48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Kept back at the exit: the household's exit is not used, and the
	// holder is still inside.
	a, b := r.issue("a", inHouse("h1")), r.issue("b", inHouse("h1"))
	read := r.read(exit, a)
	r.expect(read, true, scanner.ReasonOK)
	r.advance(30 * time.Second)
	override(exit, false, read)
	if n := exits("h1"); n != 0 {
		t.Errorf("household h1: %d exits after the only one was kept back", n)
	}
	r.expect(r.read(exit, b), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(entry, a), false, scanner.ReasonAntiPassback) // a never left

	// Let through at the exit: a passage like any other.
	c, d := r.issue("c", inHouse("h2")), r.issue("d", inHouse("h2"))
	r.expect(r.read(exit, c), true, scanner.ReasonOK)
	read = r.read(exit, d)
	r.expect(read, false, scanner.ReasonQuota)
	override(exit, true, read)
	if n := exits("h2"); n != 2 {
		t.Errorf("household h2: %d exits, want 2 (one let through by the gatekeeper)", n)
	}
	r.advance(time.Minute)
	r.expect(r.read(entry, d), true, scanner.ReasonOK) // d is outside now
	r.advance(time.Minute)
	r.expect(r.read(entry, d), false, scanner.ReasonAntiPassback)

	// Naming no read, a moment after one (a visitor with no pass turned
	// away): about nobody; the holder who went out is still out.
	e := r.issue("e", inHouse("h3"))
	r.expect(r.read(exit, e), true, scanner.ReasonOK)
	r.advance(30 * time.Second)
	override(exit, false, nil)
	if n := exits("h3"); n != 1 {
		t.Errorf("household h3: %d exits, want e's", n)
	}

	// What cannot be reversed.
	read = r.read(entry, c)
	r.expect(read, true, scanner.ReasonOK)
	lastAt := func(in gate.Input) (gate.LastRead, bool) {
		for _, l := range r.g.LastReads() {
			if l.Input == in.Name {
				return l, true
			}
		}
		return gate.LastRead{}, false
	}
	if l, ok := lastAt(entry); !ok || l.Seq != read.Seq || !l.Allow || l.Reason != scanner.ReasonOK || !l.Reversible {
		t.Errorf("last read at the entry: %+v, want read %d, reversible", l, read.Seq)
	}
	refused(entry, true, read.Seq, "let through already")
	refused(exit, false, read.Seq, "not the last read at cam-out")
	refused(entry, false, read.Seq+100, "not the last read at cam-in")
	override(entry, false, read)
	refused(entry, false, read.Seq, "reversed already")
	f := r.issue("f", inHouse("h4"))
	r.advance(time.Minute)
	read = r.read(entry, f)
	r.advance(gate.OverrideWindow + time.Second)
	if l, ok := lastAt(entry); !ok || l.Seq != read.Seq || l.Reversible || l.Ago != gate.OverrideWindow+time.Second {
		t.Errorf("last read at the entry, past the window: %+v", l)
	}
	refused(entry, false, read.Seq, "more than 2m0s ago")
	// A pass its key may not sign: its IDs are nobody's word. And no pass.
	forged := r.issueWith(issuer, "g", inHouse("h4"), func(p *scanner.Pass) { p.Issuer = "compound-9" })
	read = r.read(exit, forged)
	r.expect(read, false, scanner.ReasonUnknownKey)
	refused(exit, true, read.Seq, "holds no pass")
	r.advance(time.Minute)
	read = r.g.Handle(context.Background(), exit, scanner.Read{Text: "not a pass"})
	r.expect(read, false, scanner.ReasonMalformed)
	refused(exit, true, read.Seq, "holds no pass")
}

// An override that could not be logged undid nothing: the read may be
// named again once the log has room, and then it is reversed.
func TestOverrideNotLoggedReversesNothing(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.AntiPassback = scanner.PassbackHard })
	full := &atomic.Bool{}
	r.g.Log = fullLog{r.g.Log, full}
	a := r.issue("a")
	read := r.read(exit, a)
	r.expect(read, true, scanner.ReasonOK)
	full.Store(true)
	if o, err := r.g.Override(context.Background(), exit, false, "not the holder", read.Seq); err != nil || o.Logged {
		t.Fatalf("override with the log full: %+v, %v", o, err)
	}
	full.Store(false)
	r.advance(5 * time.Second)
	if o, err := r.g.Override(context.Background(), exit, false, "not the holder", read.Seq); err != nil || !o.Logged || o.Overrides != read.Seq {
		t.Fatalf("the same override once the log has room: %+v, %v", o, err)
	}
	r.advance(time.Minute)
	r.expect(r.read(exit, a), true, scanner.ReasonOK) // kept back: still inside
}

// fullLog is a log that is full while full is set.
type fullLog struct {
	gate.Log
	full *atomic.Bool
}

func (l fullLog) Append(ev *scanner.Event) (uint64, error) {
	if l.full.Load() {
		return 0, store.ErrFull
	}
	return l.Log.Append(ev)
}

// A read whose pass has passed again since, at another input, is not
// reversed: that would undo the later passage.
func TestOverrideNotPastALaterPassage(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.AntiPassback = scanner.PassbackHard })
	a := r.issue("a")
	read := r.read(exit, a)
	r.expect(read, true, scanner.ReasonOK)
	r.advance(20 * time.Second)
	back := r.read(entry, a)
	r.expect(back, true, scanner.ReasonOK)
	r.advance(20 * time.Second)
	r.expect(r.g.Handle(context.Background(), exit2, scanner.Read{Frame: r.frame(a, 640, 480)}), true, scanner.ReasonOK)
	for _, l := range r.g.LastReads() {
		if l.Input == exit.Name && (l.Seq != read.Seq || l.Reversible) {
			t.Errorf("last read at %s: %+v, want read %d, not reversible", exit.Name, l, read.Seq)
		}
	}
	_, err := r.g.Override(context.Background(), exit, false, "the first was not the holder", read.Seq)
	if want := fmt.Sprintf("read %d's pass has passed again since, in read %d", read.Seq, back.Seq); err == nil || err.Error() != want {
		t.Fatalf("override of read %d: %v, want %q", read.Seq, err, want)
	}
	r.advance(time.Minute)
	r.expect(r.g.Handle(context.Background(), exit2, scanner.Read{Frame: r.frame(a, 640, 480)}), false, scanner.ReasonAntiPassback)
}

func TestLogFull(t *testing.T) {
	for _, rule := range []gate.LogFailure{gate.FailClosed, gate.FailOpen} {
		r := newRig(t, nil)
		r.g.OnLogFailure = rule
		r.g.Log = failingLog{}
		o := r.read(entry, r.issue("a"))
		if o.Logged {
			t.Fatal("logged")
		}
		if allow := o.Decision.Allow; allow != (rule == gate.FailOpen) {
			t.Errorf("rule %d: allow %v", rule, allow)
		}
		if rule == gate.FailClosed && o.Decision.Reason != gate.ReasonLogFailed {
			t.Errorf("reason %s", o.Decision.Reason)
		}
		// A read the rules denied keeps its reason: the holder is told why.
		b := r.issue("b", func(p *scanner.Pass) { p.Expiry = t0.Add(time.Hour) })
		r.advance(3 * time.Hour)
		expired := r.read(entry, b)
		if expired.Logged || expired.Decision.Allow || expired.Decision.Reason != scanner.ReasonExpired {
			t.Errorf("rule %d, an expired pass: %+v, logged %v", rule, expired.Decision, expired.Logged)
		}
		if n := r.g.Stats.LogFailures.Load(); n != 2 {
			t.Errorf("rule %d: %d log failures counted, want 2", rule, n)
		}
	}
}

// In emergency mode every exit opens even when the log cannot be written:
// a pass the rules allow as much as one only the emergency lets out. An
// entry is still denied.
func TestLogFullInEmergency(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Emergency = true })
	r.g.Log = failingLog{}
	green := r.read(exit, r.issue("g"))
	red := r.read(exit, r.issue("r", func(p *scanner.Pass) { p.Status = scanner.Red }))
	in := r.read(entry, r.issue("e"))
	if !green.Decision.Allow || green.Decision.Reason != scanner.ReasonOK {
		t.Errorf("green pass at an exit: %+v", green.Decision)
	}
	if !red.Decision.Allow || red.Decision.Reason != scanner.ReasonEmergency {
		t.Errorf("red pass at an exit: %+v", red.Decision)
	}
	if in.Decision.Allow || in.Decision.Reason != gate.ReasonLogFailed {
		t.Errorf("entry: %+v", in.Decision)
	}
	if o, err := r.g.Override(context.Background(), exit, true, "fire", 0); err != nil || !o.Decision.Allow {
		t.Errorf("override at an exit: %+v, %v", o, err)
	}
}

// Two members of one household at two exit lanes at the same moment: a
// quota of one lets one of them out, never both.
func TestQuotaAcrossInputs(t *testing.T) {
	r := newRig(t, quotaOne)
	for i := range 8 {
		house := inHouse(fmt.Sprint("house-", i))
		a := r.frame(r.issue(fmt.Sprint(i, "a"), house), 640, 480)
		b := r.frame(r.issue(fmt.Sprint(i, "b"), house), 640, 480)
		done := make(chan *gate.Outcome, 2)
		go func() { done <- r.g.Handle(context.Background(), exit, scanner.Read{Frame: a}) }()
		go func() { done <- r.g.Handle(context.Background(), exit2, scanner.Read{Frame: b}) }()
		o1, o2 := <-done, <-done
		if o1.Decision.Allow == o2.Decision.Allow {
			t.Fatalf("household %d, quota 1: %s and %s", i, o1.Decision.Reason, o2.Decision.Reason)
		}
		r.advance(time.Minute)
	}
}

type failingLog struct{}

func (failingLog) Append(*scanner.Event) (uint64, error) { return 0, store.ErrFull }

// A frame with no code and a garbage frame decide nothing and log nothing.
func TestNoCode(t *testing.T) {
	r := newRig(t, nil)
	blank := image.NewGray(image.Rect(0, 0, 640, 480))
	if o := r.g.Handle(context.Background(), entry, scanner.Read{Frame: blank}); o != nil {
		t.Fatalf("decided a blank frame: %v", o)
	}
	noise := image.NewGray(image.Rect(0, 0, 1280, 720))
	for i := range noise.Pix {
		noise.Pix[i] = byte(i * 7919 >> 3)
	}
	if o := r.g.Handle(context.Background(), entry, scanner.Read{Frame: noise}); o != nil {
		t.Fatalf("decided a noise frame: %v", o)
	}
	if st, _ := r.log.Stats(); st.Pending != 0 {
		t.Errorf("%d events", st.Pending)
	}
}

func openEvent(t *testing.T, hub *seal.PrivateKey, s store.Sealed) scanner.Event {
	t.Helper()
	b, err := seal.NewOpener(hub).Open(s.Header, s.Seq, s.Box)
	if err != nil {
		t.Fatal(err)
	}
	var ev scanner.Event
	if err := ev.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return ev
}

// script is a source that returns its steps in turn: a text to read, or
// an error.
type script []any

func (s *script) Next(ctx context.Context) (scanner.Read, error) {
	if len(*s) == 0 {
		return scanner.Read{}, io.EOF
	}
	step := (*s)[0]
	*s = (*s)[1:]
	if err, ok := step.(error); ok {
		return scanner.Read{}, err
	}
	return scanner.Read{Text: step.(string)}, nil
}

func (s *script) Close() error { return nil }

// An input ends at its source's io.EOF and only there: a fault that wraps
// io.EOF (a reader module's tty hung up) is counted, and reading goes on.
func TestRunEndsOnlyAtTheSourcesEnd(t *testing.T) {
	r := newRig(t, nil)
	src := &script{r.issue("a"), fmt.Errorf("reader gone: %w", io.EOF), r.issue("b")}
	if err := r.g.Run(context.Background(), []gate.Input{{Name: "reader", Direction: scanner.Entry, Source: src}}); err != nil {
		t.Fatal(err)
	}
	if n, faults := r.g.Stats.Decisions.Load(), r.g.Stats.SourceErrors.Load(); n != 2 || faults != 1 {
		t.Errorf("%d decisions and %d faults; want both passes decided past the one fault", n, faults)
	}
}

// stopAfterRead hands over one read as the stop comes (it cancels the
// gate's context inside Next), then waits for the end.
type stopAfterRead struct {
	text   string
	stop   context.CancelFunc
	handed bool
}

func (s *stopAfterRead) Next(ctx context.Context) (scanner.Read, error) {
	if s.handed {
		<-ctx.Done()
		return scanner.Read{}, ctx.Err()
	}
	s.handed = true
	s.stop()
	return scanner.Read{Text: s.text}, nil
}

func (s *stopAfterRead) Close() error { return nil }

// A read the source handed over as the stop came is the read in hand: it
// is decided, logged and actuated before the input ends, not dropped (a
// line already taken off a reader module exists nowhere else).
func TestStopFinishesTheReadHandedOver(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	src := &stopAfterRead{text: r.issue("a"), stop: cancel}
	if err := r.g.Run(ctx, []gate.Input{{Name: "reader", Direction: scanner.Entry, Source: src}}); err != nil {
		t.Fatal(err)
	}
	if n := r.g.Stats.Decisions.Load(); n != 1 {
		t.Fatalf("%d decisions; want the read handed over as the stop came", n)
	}
	if st, err := r.log.Stats(); err != nil || st.Pending != 1 {
		t.Fatalf("%+v, %v: want its event logged", st, err)
	}
	if got := strings.Join(r.order, ","); got != "commit 1,act 1" {
		t.Errorf("order %q; want the read committed, then actuated", got)
	}
}

// oneFrame hands over one frame, then ends.
type oneFrame struct{ handed bool }

func (s *oneFrame) Next(ctx context.Context) (scanner.Read, error) {
	if s.handed {
		return scanner.Read{}, io.EOF
	}
	s.handed = true
	return scanner.Read{Frame: image.NewGray(image.Rect(0, 0, 8, 8))}, nil
}

func (s *oneFrame) Close() error { return nil }

// slowDecoder stands for a frame that takes long to decode: the stop
// comes while it is decoded. Through Decode, or a context that never
// ends, it reads the pass.
type slowDecoder struct {
	text string
	stop context.CancelFunc
}

func (d slowDecoder) Decode(*image.Gray) (string, error) { return d.text, nil }

func (d slowDecoder) DecodeContext(ctx context.Context, _ *image.Gray) (string, error) {
	d.stop()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(10 * time.Second):
		return d.text, nil
	}
}

// A frame being decoded as the stop comes is not a read yet: the gate
// gives up its decoding (through a decoder that can) rather than wait for
// it, and decides nothing.
func TestStopGivesUpAFrameBeingDecoded(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	in := gate.Input{Name: "camera", Direction: scanner.Entry, Source: &oneFrame{},
		Decoder: slowDecoder{text: r.issue("a"), stop: cancel}}
	if err := r.g.Run(ctx, []gate.Input{in}); err != nil {
		t.Fatal(err)
	}
	if n := r.g.Stats.Decisions.Load(); n != 0 {
		t.Fatalf("%d decisions; want the frame being decoded given up", n)
	}
	if f, none := r.g.Stats.Frames.Load(), r.g.Stats.NoCode.Load(); f != 1 || none != 0 {
		t.Errorf("%d frames, %d without a code; want 1 frame, not counted as one without a code", f, none)
	}
}

// The gate logged a read at trusted time; then the system clock steps back
// while still "synchronised", or loses its synchronisation. A pass expired
// by the trusted time already logged stays expired: the clock never goes
// below a trusted reading.
func TestClockNeverBelowATrustedReading(t *testing.T) {
	for _, tc := range []struct {
		name string
		then func(r *rig)
	}{
		{"stepped back, still synchronised", func(r *rig) { r.step(-7 * 24 * time.Hour) }},
		{"synchronisation lost", func(r *rig) { r.g.Clock.Synced = func() bool { return false } }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.step(10 * 24 * time.Hour) // after a power cut: the floor t0 is 10 days old, NTP has the true time
			r.expect(r.read(entry, r.issue("a")), true, scanner.ReasonOK)
			logged := r.log.TimeFloor()
			expired := r.issue("b", func(p *scanner.Pass) { p.Expiry = t0.Add(5 * 24 * time.Hour) })

			tc.then(r)
			r.advance(time.Minute)
			if m := r.g.Clock.Now(); m.Wall.Before(logged) || !m.Trusted {
				t.Errorf("decision time %+v; want trusted, not below the trusted time logged, %v", m, logged)
			}
			r.expect(r.read(entry, expired), false, scanner.ReasonExpired)
		})
	}
}

// RaiseFloor lifts the floor to a time known to have passed and records
// the jump for the state stamped below it; a time below the floor, or none
// (the zero Time: a build with no time stamped in), records none. A clock
// given no floor (a log that holds no event) starts at the Unix epoch.
func TestClockRaiseFloor(t *testing.T) {
	var mono time.Duration
	clock := func(floor time.Time) *gate.Clock {
		c := gate.NewClock(floor)
		c.Monotonic = func() time.Duration { return mono }
		c.Synced = func() bool { return false }
		return c
	}
	c := clock(t0)
	mono = time.Minute
	c.RaiseFloor(t0)
	if m, j := c.NowAndJumps(); !m.Wall.Equal(t0.Add(time.Minute)) || m.Trusted || len(j) != 0 {
		t.Errorf("a floor below the clock's: %+v, jumps %v", m, j)
	}
	c.RaiseFloor(t0.Add(time.Hour))
	want := gate.Jump{From: t0, To: t0.Add(time.Minute), By: time.Hour - time.Minute}
	if m, j := c.NowAndJumps(); !m.Wall.Equal(t0.Add(time.Hour)) || m.Trusted || len(j) != 1 || j[0] != want {
		t.Errorf("raised: %+v, jumps %v; want %v", m, j, want)
	}
	c.RaiseFloor(time.Time{})
	if m, j := c.NowAndJumps(); !m.Wall.Equal(t0.Add(time.Hour)) || len(j) != 0 {
		t.Errorf("no build time: %+v, jumps %v", m, j)
	}
	mono = time.Second
	c = clock(time.Time{})
	if m := c.Now(); m.Wall.UnixNano() != int64(time.Second) {
		t.Errorf("a clock with no floor: %+v; want a second past the Unix epoch", m)
	}
	// Trusted time ahead of the floor: a jump to trusted time, unlike a
	// build's time.
	c = clock(t0)
	c.Synced = func() bool { return true }
	c.Wall = func() time.Time { return t0.Add(3 * time.Hour) }
	if _, j := c.NowAndJumps(); len(j) != 1 || !j[0].Trusted {
		t.Errorf("trusted time ahead: jumps %v, want one to trusted time", j)
	}
}

// A pass dated ahead of trusted time is not valid yet: otherwise no status
// list signed before its issued-at would apply to it (it could not be
// revoked), and a key could sign before its validity window opens.
func TestPassIssuedInTheFuture(t *testing.T) {
	r := newRig(t, nil)
	p := r.issue("a", func(p *scanner.Pass) { p.Index = 5; p.IssuedAt = t0.Add(6 * time.Hour) })
	r.advance(time.Minute)
	if o := r.read(entry, p); o.Decision.Allow || o.Decision.Reason != scanner.ReasonNotYetValid {
		t.Errorf("a pass issued 6 h ahead: allow %v, %s", o.Decision.Allow, o.Decision.Reason)
	}

	early := key("issuer, key published for a rotation")
	pub := early.Public().(ed25519.PublicKey)
	ks := &scanner.KeySet{Version: 2, Keys: []scanner.Key{{ID: scanner.KeyID(pub), Public: pub,
		Role: scanner.RolePassIssuer, Issuer: "compound-7", NotBefore: t0.Add(30 * 24 * time.Hour).Unix()}}}
	raw, err := scanner.SignKeySet(ks, root)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := r.trust.WithKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.trust = nt
	r.mu.Unlock()
	text, err := scanner.IssuePass(&scanner.Pass{Issuer: "compound-7", ID: []byte("pass-early-0123456"),
		IssuedAt: t0.Add(30 * 24 * time.Hour), NotBefore: t0, Expiry: t0.Add(60 * 24 * time.Hour),
		Household: []byte("house-1"), Sites: []string{"north-gate"}}, early)
	if err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
	if o := r.read(entry, text); o.Decision.Allow || o.Decision.Reason != scanner.ReasonNotYetValid {
		t.Errorf("a pass signed by a key valid only in 30 days: allow %v, %s", o.Decision.Allow, o.Decision.Reason)
	}
}

// Emergency mode switched on opens an exit at once for a holder denied
// there a moment before, the code still in view: not taken for the same
// read. At an entry, the debounce holds.
func TestEmergencyOnDuringDebounce(t *testing.T) {
	// The code in view is the text denied, or the same pass in another
	// text: a repeat, never decided itself, still a holder denied there.
	for _, other := range []bool{false, true} {
		r := newRig(t, quotaOne)
		a, b := r.issue("a"), r.issue("b") // one household
		shown := b
		if other {
			shown = r.issue("b", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" })
		}
		c := r.issue("c", inHouse("house-9"))
		r.expect(r.read(exit, a), true, scanner.ReasonOK)
		r.advance(time.Minute)
		r.expect(r.read(exit, b), false, scanner.ReasonQuota)
		r.expect(r.read(entry, c), true, scanner.ReasonOK)
		r.advance(500 * time.Millisecond)
		if o := r.read(exit, shown); o != nil {
			t.Fatalf("another text %v: the same read again, before the switch: %+v", other, o.Decision)
		}
		r.setEmergency(true)
		r.advance(500 * time.Millisecond)
		r.expect(r.read(exit, shown), true, scanner.ReasonEmergency)
		if o := r.read(entry, c); o != nil {
			t.Errorf("another text %v: the entry's sighting forgotten too: %+v", other, o.Decision)
		}
	}
}

// A holder let out in one text of a pass, with an older denied sighting of
// another text of it still in view, is one let out: emergency mode coming
// on does not decide that text again.
func TestEmergencyOnKeepsALetOutPassOneReadAcrossTexts(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // one household
	b2 := r.issue("b", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" })
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota) // b's first text: denied
	r.advance(48 * time.Hour)
	r.expect(r.read(exit, b2), true, scanner.ReasonOK) // its other text, the quota free again: let out
	r.advance(time.Second)
	if o := r.read(exit, b); o != nil {
		t.Fatalf("the same pass decided again: %+v", o.Decision)
	}
	r.setEmergency(true)
	r.advance(time.Second)
	if o := r.read(exit, b); o != nil {
		t.Errorf("let out, the code still in view, decided again when emergency mode came on: %s", o.Decision.Reason)
	}
}

// A holder the gatekeeper kept back at an exit the read opened is one
// denied there: emergency mode coming on, the code still in view, lets
// them out. One the gatekeeper let through is one let out: a second read
// would count twice against the quota.
func TestEmergencyOnAfterOverride(t *testing.T) {
	r := newRig(t, quotaOne)
	reverse := func(read *gate.Outcome, allow bool) {
		t.Helper()
		if _, err := r.g.Override(context.Background(), exit, allow, "checked by the gatekeeper", read.Seq); err != nil {
			t.Fatal(err)
		}
	}
	a, b := r.issue("a"), r.issue("b") // one household
	read := r.read(exit, a)
	r.expect(read, true, scanner.ReasonOK)
	reverse(read, false)
	r.advance(time.Minute)
	r.expect(r.g.Handle(context.Background(), exit2, scanner.Read{Frame: r.frame(b, 640, 480)}), true, scanner.ReasonOK)
	r.advance(time.Minute)
	read = r.read(exit, a)
	r.expect(read, false, scanner.ReasonQuota)
	reverse(read, true)
	r.advance(500 * time.Millisecond)
	r.setEmergency(true)
	if o := r.read(exit, a); o != nil {
		t.Fatalf("let through by the gatekeeper, then read again: %+v", o.Decision)
	}
	// And the other way round.
	c := r.issue("c", inHouse("house-9"))
	r.setEmergency(false)
	r.advance(time.Minute)
	read = r.read(exit, c)
	r.expect(read, true, scanner.ReasonOK)
	reverse(read, false)
	r.advance(500 * time.Millisecond)
	r.setEmergency(true)
	r.expect(r.read(exit, c), true, scanner.ReasonOK)
}

// A holder let out a moment before emergency mode comes on, the code
// still in view, is still one read: a second event would count twice
// against the household's quota.
func TestEmergencyOnKeepsAnAllowedExitOneRead(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Exit.QuotaCount, p.Exit.QuotaWindow = 2, 48*time.Hour })
	a, b := r.issue("a"), r.issue("b") // one household, two exits in 48 h
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(500 * time.Millisecond)
	r.setEmergency(true)
	if o := r.read(exit, a); o != nil {
		t.Errorf("a's one passage decided again after emergency on: %+v", o.Decision)
	}
	r.setEmergency(false)
	r.advance(time.Hour)
	r.expect(r.read(exit, b), true, scanner.ReasonOK)
}

// A policy's clock skew counts for at most MaxClockSkew: a signed policy
// saying a day is not refused whole, nor lets passes in a day late.
func TestClockSkewUsedUpToAnHour(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.ClockSkew = 24 * time.Hour })
	r.step(10 * 24 * time.Hour)
	now := r.now()
	late := r.issue("a", func(p *scanner.Pass) { p.Expiry = now.Add(-2 * time.Hour) })
	r.expect(r.read(entry, late), false, scanner.ReasonExpired)
	within := r.issue("b", func(p *scanner.Pass) { p.Expiry = now.Add(-30 * time.Minute) })
	r.expect(r.read(entry, within), true, scanner.ReasonOK)
}

// A new gate, its log empty, run by a binary with no build time stamped in
// (built outside version control), without trusted time: it decides from
// the Unix epoch, and anti-passback and the quota hold. (From the zero
// Time, stamps overflowed to 1754 and the commit expired them at once.)
func TestNoFloorNoBuildTime(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) {
		p.Entry.AntiPassback = scanner.PassbackHard
		quotaOne(p)
	})
	r.step(10 * 24 * time.Hour)
	r.restart(false, time.Time{})
	r.advance(time.Second)
	a, b := r.issue("a"), r.issue("b") // one household
	c := r.issue("c", inHouse("house-9"))
	o := r.read(exit, a)
	r.expect(o, true, scanner.ReasonOK)
	if o.At.Trusted || o.At.Wall.UnixNano() != int64(time.Second) {
		t.Errorf("decided at %+v; want untrusted, a second past the Unix epoch", o.At)
	}
	r.expect(r.read(entry, c), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.expect(r.read(entry, c), false, scanner.ReasonAntiPassback)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
}

// A gate boots after ten days off, with no trusted time: it stamps its
// decisions with the old floor, a lower bound. Minutes later NTP gives the
// true time. The passages made minutes ago still count, for the household
// quota and for anti-passback, and are not expired with the old floor.
func TestUntrustedPassagesCountOnceTimeIsTrusted(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) {
		p.Entry.AntiPassback = scanner.PassbackHard
		quotaOne(p)
	})
	r.step(10 * 24 * time.Hour) // the true time; the floor t0 is 10 days old
	r.g.Clock.Synced = func() bool { return false }
	r.advance(time.Second)             // the daemon starts, then people come
	a, b := r.issue("a"), r.issue("b") // one household
	c := r.issue("c", inHouse("house-9"))
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	if o := r.read(entry, c); !o.Decision.Allow || o.At.Trusted || !o.At.Wall.Before(t0.Add(time.Hour)) {
		t.Fatalf("untrusted read: %+v", o)
	}

	r.advance(2 * time.Minute)
	r.g.Clock.Synced = func() bool { return true } // NTP syncs
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	r.expect(r.read(entry, c), false, scanner.ReasonAntiPassback)
	// The same after more commits, which expire state by the new floor.
	r.advance(time.Minute)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
}

// The gate decided under an untrusted clock, then stopped (a power cut)
// before trusted time came, or before a read after it. Once time is
// trusted in a later run, those passages count for the quota and for
// anti-passback, though no clock of that run saw them stamped; and so
// they do when that run starts from a newer build's time, far above their
// stamps (a technician installed a release), trusted or not.
func TestUntrustedPassagesOfAnEarlierRunCount(t *testing.T) {
	var none time.Time
	untrustedRead := func(r *rig) {
		r.advance(time.Minute)
		r.expect(r.read(entry, r.issue("d", inHouse("house-4"))), true, scanner.ReasonOK)
		r.advance(time.Minute)
	}
	for _, tc := range []struct {
		name string
		stop func(r *rig) // what happens before the power cut
		next func(r *rig) // after the restart
	}{
		{"trusted only after the restart", nil, func(r *rig) { r.restart(true, none) }},
		{"trusted before the stop, no read after it", func(r *rig) {
			r.g.Clock.Synced = func() bool { return true }
			r.g.Clock.Now() // a status request saw trusted time
		}, func(r *rig) { r.restart(true, none) }},
		{"untrusted again after the restart", nil, func(r *rig) {
			r.restart(false, none)
			untrustedRead(r)
			r.g.Clock.Synced = func() bool { return true }
		}},
		{"a newer build, trusted at once", nil, func(r *rig) { r.restart(true, r.now().Add(-24*time.Hour)) }},
		{"a newer build, untrusted, then trusted", nil, func(r *rig) {
			r.restart(false, r.now().Add(-24*time.Hour))
			untrustedRead(r)
			r.g.Clock.Synced = func() bool { return true }
		}},
		{"a newer build, never trusted", nil, func(r *rig) {
			r.restart(false, r.now().Add(-24*time.Hour))
			untrustedRead(r)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(p *scanner.Policy) {
				p.Entry.AntiPassback = scanner.PassbackHard
				quotaOne(p)
			})
			r.step(10 * 24 * time.Hour) // the true time; the floor t0 is 10 days old
			r.g.Clock.Synced = func() bool { return false }
			r.advance(time.Second)
			a, b := r.issue("a"), r.issue("b") // one household
			c := r.issue("c", inHouse("house-9"))
			r.expect(r.read(exit, a), true, scanner.ReasonOK)
			if o := r.read(entry, c); !o.Decision.Allow || o.At.Trusted {
				t.Fatalf("untrusted read: %+v", o)
			}
			r.advance(2 * time.Minute)
			if tc.stop != nil {
				tc.stop(r)
			}
			r.advance(time.Minute) // the power cut and the boot
			tc.next(r)

			r.expect(r.read(exit, b), false, scanner.ReasonQuota)
			r.expect(r.read(entry, c), false, scanner.ReasonAntiPassback)
		})
	}
}

// failingShift is the log, with ShiftState failing the first fails times.
type failingShift struct {
	*store.Log
	fails int
}

func (f *failingShift) ShiftState(from, to time.Time, by time.Duration, trusted bool) (int, error) {
	if f.fails > 0 {
		f.fails--
		return 0, fmt.Errorf("shift state: %w", store.ErrFull)
	}
	return f.Log.ShiftState(from, to, by, trusted)
}

// A shift that fails is tried again at the next read, and until it
// succeeds nothing is committed: the passages decided before trusted time
// are not forgotten.
func TestStateShiftRetried(t *testing.T) {
	r := newRig(t, quotaOne)
	r.g.Memory = &failingShift{Log: r.log, fails: 1}
	r.step(10 * 24 * time.Hour)
	r.g.Clock.Synced = func() bool { return false }
	r.advance(time.Second)
	a, b := r.issue("a"), r.issue("b") // one household
	c := r.issue("c", inHouse("house-9"))
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(2 * time.Minute)
	r.g.Clock.Synced = func() bool { return true }
	// The shift fails: nothing is committed (a commit would expire the
	// state with the old floor), and the read is handled as unlogged.
	if o := r.read(exit, c); o.Decision.Allow || o.Decision.Reason != gate.ReasonLogFailed || o.Logged {
		t.Fatalf("while the shift is pending: allow %v, %s, logged %v; want an unlogged denial", o.Decision.Allow, o.Decision.Reason, o.Logged)
	}
	if !r.g.Stats.StateMovePending.Load() {
		t.Error("the failed shift is not shown as pending")
	}
	r.advance(time.Minute)
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
	r.expect(r.read(exit, c), true, scanner.ReasonOK)
	if r.g.Stats.StateMovePending.Load() {
		t.Error("the shift still shown as pending after it succeeded")
	}
}

// A trusted clock whose floor then lagged (here the monotonic clock missed
// three days, as CLOCK_MONOTONIC misses a suspend): when synchronised time
// comes back that far ahead, the passages stamped meanwhile move too.
func TestLaterJumpShifted(t *testing.T) {
	r := newRig(t, quotaOne)
	r.step(10 * 24 * time.Hour)
	r.expect(r.read(entry, r.issue("x", inHouse("house-9"))), true, scanner.ReasonOK)
	r.g.Clock.Synced = func() bool { return false }
	r.step(3 * 24 * time.Hour)
	r.advance(time.Second)
	a, b := r.issue("a"), r.issue("b") // one household
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(time.Minute)
	r.g.Clock.Synced = func() bool { return true }
	r.expect(r.read(exit, b), false, scanner.ReasonQuota)
}

// shiftProbe is a log and a memory that records the decisions committed
// inside a span already shifted.
type shiftProbe struct {
	mu      sync.Mutex
	shifted []gate.Jump
	late    int
}

func (p *shiftProbe) Append(ev *scanner.Event) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, j := range p.shifted {
		if w := time.Unix(0, ev.Wall); w.After(j.From) && !w.After(j.To) {
			p.late++
		}
	}
	return 1, nil
}

func (p *shiftProbe) LastSeen(string, []byte) (scanner.Direction, time.Time, bool, error) {
	return 0, time.Time{}, false, nil
}

func (p *shiftProbe) HouseholdExits(string, []byte, time.Time) (int, error) { return 0, nil }

func (p *shiftProbe) ShiftState(from, to time.Time, by time.Duration, trusted bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shifted = append(p.shifted, gate.Jump{From: from, To: to, By: by, Trusted: trusted})
	return 0, nil
}

// The clock's first trusted reading may come from another caller (a
// status request) at any moment: no decision stamped in a span is
// committed after the gate moved that span.
func TestNoCommitInAShiftedSpan(t *testing.T) {
	for i := range 300 {
		var synced atomic.Bool
		clock := gate.NewClock(t0)
		clock.Wall = func() time.Time { return t0.Add(10 * 24 * time.Hour) }
		clock.Synced = synced.Load
		p := &shiftProbe{}
		g := &gate.Gate{Site: "north-gate", Log: p, Memory: p, Clock: clock,
			Trust: func() *scanner.Trust { return nil }, Policy: func() *scanner.Policy { return nil }}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			for range 100 {
				if _, err := g.Override(context.Background(), exit, true, "x", 0); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			<-start
			for range i % 50 {
				runtime.Gosched()
			}
			synced.Store(true)
			for range 100 {
				clock.Now()
			}
		})
		close(start)
		wg.Wait()
		if p.late > 0 {
			t.Fatalf("trial %d: %d decisions committed inside a span already shifted", i, p.late)
		}
	}
}

// A restart by a newer build, its boot clock not advanced yet between the
// clock's making and the raise (as in the rig, or on a coarse boot clock):
// taking the jumps at start leaves the log's floor at the build time.
func TestTakeJumpsAtStart(t *testing.T) {
	r := newRig(t, nil)
	r.expect(r.read(entry, r.issue("a")), true, scanner.ReasonOK) // at trusted time: nothing marked
	build := r.now().Add(5 * 24 * time.Hour)
	r.restart(false, build)
	r.g.TakeJumps()
	if f := r.log.TimeFloor(); f.Before(build) {
		t.Fatalf("log floor %v after taking the jump to the build time %v", f, build)
	}
}

// A gate that had trusted time and saw no one before the power went keeps
// that time (KeepTime, every few minutes in the daemon): booted again with
// no trusted time, it denies a pass expired by it, rather than deciding it
// under clock_unknown. An untrusted clock running ahead is not followed.
func TestKeepTimeWithoutReads(t *testing.T) {
	r := newRig(t, nil)
	expired := r.issue("a", func(p *scanner.Pass) { p.Expiry = t0.Add(5 * 24 * time.Hour) })
	r.restart(false, time.Time{})
	r.step(20 * 24 * time.Hour) // a clock running ahead, not synchronised
	if err := r.g.KeepTime(); err != nil {
		t.Fatal(err)
	}
	if f := r.log.TimeFloor(); !f.Before(t0.Add(24 * time.Hour)) {
		t.Fatalf("log floor %v: an untrusted clock was followed", f)
	}
	// The clock ten days on from the floor (the gate was off), then
	// synchronised while the gate runs: no one comes.
	r.step(-10 * 24 * time.Hour)
	r.g.Clock.Synced = func() bool { return true }
	if err := r.g.KeepTime(); err != nil {
		t.Fatal(err)
	}
	if f, want := r.log.TimeFloor(), r.now(); f.Before(want) {
		t.Fatalf("log floor %v after KeepTime at trusted time %v", f, want)
	}
	// The power goes; back without network, the clock lost.
	r.step(-40 * 365 * 24 * time.Hour)
	r.restart(false, time.Time{})
	r.expect(r.read(entry, expired), false, scanner.ReasonExpired)
}

// A holder denied at one exit lane who shows the pass at the next lane
// straight after (the same read there, the first lane still seeing it) is
// let out at that lane when emergency mode comes on, the code still in
// view there only: the read it repeats kept its holder in. Whether the
// second lane sees the same text, or another text of the pass.
func TestEmergencyOnAtTheNextExitLane(t *testing.T) {
	for _, other := range []bool{false, true} {
		r := newRig(t, quotaOne)
		a, b := r.issue("a"), r.issue("b") // one household
		shown := b
		if other {
			shown = r.issue("b", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" })
		}
		r.expect(r.read(exit, a), true, scanner.ReasonOK)
		r.advance(time.Minute)
		r.expect(r.read(exit, b), false, scanner.ReasonQuota)
		r.advance(time.Second)
		if o := r.read(exit2, shown); o != nil {
			t.Fatalf("another text %v: the pass at the next lane straight after: %s", other, o.Decision.Reason)
		}
		r.advance(time.Second)
		if o := r.read(exit2, shown); o != nil {
			t.Fatalf("another text %v: still in view at the next lane: %s", other, o.Decision.Reason)
		}
		r.setEmergency(true)
		r.advance(time.Second)
		r.expect(r.read(exit2, shown), true, scanner.ReasonEmergency)
	}
}

// In emergency mode every read at an exit is allowed: the exit's camera
// seeing a pass that the entry's camera beside it has just decided lets
// its holder out, rather than keeping them in as the same read. A holder
// let out at one exit lane is still one read at the next.
func TestEmergencyExitNotHeldByTheEntry(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.Emergency = true })
	y := r.issue("y", func(p *scanner.Pass) { p.Status = scanner.Yellow }) // may enter, not leave
	r.expect(r.read(entry, y), true, scanner.ReasonOK)
	r.advance(500 * time.Millisecond)
	r.expect(r.read(exit, y), true, scanner.ReasonEmergency)
	r.advance(500 * time.Millisecond)
	if o := r.read(exit2, y); o != nil {
		t.Errorf("let out at one exit lane, then seen at the next: %s", o.Decision.Reason)
	}
}

// A holder let out at one exit lane, then shown at the next lane straight
// after (held there as the same read), whom the gatekeeper then keeps back
// at the first lane (override -deny), is a holder kept back: emergency mode
// coming on, the code still in view at the next lane only, lets them out
// there (docs/gate.md: "emergency mode coming on treats the holder as the
// gatekeeper decided (kept back at an exit: let out …)", and "so is a
// holder at another exit whose read was taken for one that did not let
// them out").
func TestEmergencyOnAfterDenyOverrideAtTheOtherLane(t *testing.T) {
	r := newRig(t, nil)
	p := r.issue("p")
	read := r.read(exit, p)
	r.expect(read, true, scanner.ReasonOK)
	r.advance(time.Second)
	if o := r.read(exit2, p); o != nil {
		t.Fatalf("the pass at the next lane straight after: %s", o.Decision.Reason)
	}
	if _, err := r.g.Override(context.Background(), exit, false, "kept back, checked by the gatekeeper", read.Seq); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	if o := r.read(exit2, p); o != nil {
		t.Fatalf("still in view at the next lane, before the switch: %s", o.Decision.Reason)
	}
	r.setEmergency(true)
	r.advance(time.Second)
	o := r.read(exit2, p)
	if o == nil || !o.Decision.Allow {
		t.Fatalf("kept back by the gatekeeper, in view at the next exit lane, emergency mode on: not let out (%v)", o)
	}
}

// The other way round: a holder denied at one exit lane, held at the next
// as the same read, whom the gatekeeper then lets through at the first
// lane (override -allow), is one let out: emergency mode coming on does
// not decide the next lane's sighting again (a second exit event for one
// passage).
func TestEmergencyOnAfterAllowOverrideAtTheOtherLane(t *testing.T) {
	r := newRig(t, quotaOne)
	a, b := r.issue("a"), r.issue("b") // one household
	r.expect(r.read(exit, a), true, scanner.ReasonOK)
	r.advance(time.Minute)
	read := r.read(exit, b)
	r.expect(read, false, scanner.ReasonQuota)
	r.advance(time.Second)
	if o := r.read(exit2, b); o != nil {
		t.Fatalf("the pass at the next lane straight after: %s", o.Decision.Reason)
	}
	if _, err := r.g.Override(context.Background(), exit, true, "let through, checked by the gatekeeper", read.Seq); err != nil {
		t.Fatal(err)
	}
	// The holder stands at the next lane, its camera seeing the code; the
	// first lane's camera sees it no more.
	for range 6 {
		r.advance(time.Second)
		if o := r.read(exit2, b); o != nil {
			t.Fatalf("still in view at the next lane: %s", o.Decision.Reason)
		}
	}
	r.setEmergency(true)
	r.advance(time.Second)
	if o := r.read(exit2, b); o != nil {
		t.Fatalf("let through by the gatekeeper at the first lane, then decided again at the next: %s (allow %v, seq %d)", o.Decision.Reason, o.Decision.Allow, o.Seq)
	}
}

// The same at one lane: a holder let out there who then holds up the pass
// in another text (paper after the phone), the first text out of sight for
// longer than the window, whom the gatekeeper then keeps back (override
// -deny), is a holder kept back: emergency mode coming on, that other text
// still in view, lets them out.
func TestEmergencyOnAfterDenyOverrideOtherTextInView(t *testing.T) {
	r := newRig(t, nil)
	p := r.issue("p")
	paper := r.issue("p", func(p *scanner.Pass) { p.Holder = "A.B. 1-2" }) // the same pass, another text
	read := r.read(exit, p)
	r.expect(read, true, scanner.ReasonOK)
	for range 7 {
		r.advance(time.Second)
		if o := r.read(exit, paper); o != nil {
			t.Fatalf("the same pass in another text: %s", o.Decision.Reason)
		}
	}
	if _, err := r.g.Override(context.Background(), exit, false, "kept back, checked by the gatekeeper", read.Seq); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	r.setEmergency(true)
	r.advance(time.Second)
	o := r.read(exit, paper)
	if o == nil || !o.Decision.Allow {
		t.Fatalf("kept back by the gatekeeper, the pass in view in another text, emergency mode on: not let out (%v)", o)
	}
}
