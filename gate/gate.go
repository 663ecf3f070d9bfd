package gate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// Log records decisions durably. Append returns once the event is
// committed; the store's event log implements it.
type Log interface {
	Append(ev *scanner.Event) (seq uint64, err error)
}

// Memory is the gate's memory of earlier passages, keyed by keyed hashes
// (the store's event log implements it).
type Memory interface {
	LastSeen(issuer string, passID []byte) (dir scanner.Direction, at time.Time, ok bool, err error)
	HouseholdExits(issuer string, household []byte, since time.Time) (int, error)
}

// StateShifter is a Memory that can move the passages it holds stamped in
// (from, to] forward by a duration, together with those it holds stamped
// under an untrusted clock since its last passage at trusted time, however
// far below from (the store's event log is one: an earlier run's passages
// under an untrusted clock). The gate uses it when the clock's floor
// proves to have lagged (Clock.NowAndJumps): passages decided before,
// stamped with the lagging floor, then count as recent, as they are. A
// shift to trusted time (trusted) also settles the passages stamped
// untrusted: a later shift does not move them again.
type StateShifter interface {
	ShiftState(from, to time.Time, by time.Duration, trusted bool) (int, error)
}

// Decoder finds the text of a QR code in a frame; qr.ErrNotFound-like
// errors mean there is none.
type Decoder interface {
	Decode(img *image.Gray) (string, error)
}

// ContextDecoder is a Decoder that can give up on a frame once ctx is
// done, returning ctx's error. Run decodes through it when an input's
// decoder has it, so that a stop does not wait for a dear frame: a frame
// is not yet a read, and one given up is dropped.
type ContextDecoder interface {
	Decoder
	DecodeContext(ctx context.Context, img *image.Gray) (string, error)
}

// Outcome is one decision as the outputs see it: after its event committed.
type Outcome struct {
	Seq       uint64 // the event's sequence; 0 when it was not logged
	Input     string
	Source    string // the read's name (a file, a device); never the payload
	Site      string
	Direction scanner.Direction
	At        scanner.Moment
	Decision  scanner.Decision
	Logged    bool   // the event committed
	Override  string // the operator's reason, for a manual override
	Overrides uint64 // an override's: the sequence of the read it reverses (Gate.Override); 0: none
}

// Output is something a decision drives: a relay, a hook, a screen. Act
// must return within its own bounded time; an error is counted and
// logged, never retried.
type Output interface {
	Name() string
	Act(ctx context.Context, o *Outcome) error
}

// LogFailure is what the gate does when it cannot log a decision.
type LogFailure uint8

const (
	// FailClosed denies every read that cannot be logged (default). What
	// is already logged is untouched; reads resume being logged once
	// the store has room again.
	FailClosed LogFailure = iota
	// FailOpen lets an allowed read through unlogged, and counts it.
	FailOpen
)

// ReasonLogFailed is the reason of a read denied because the log could not
// be written.
const ReasonLogFailed scanner.Reason = "log_failed"

// Input is one configured input of the gate.
type Input struct {
	Name      string
	Direction scanner.Direction
	Source    scanner.Source
	Decoder   Decoder // for this input's frames; nil means Gate.Decoder
}

// Gate is a running gate.
type Gate struct {
	Site    string
	Log     Log
	Memory  Memory  // nil: no anti-passback or quota state
	Decoder Decoder // for inputs without their own
	Outputs []Output
	Clock   *Clock
	Logger  *slog.Logger // nil: slog.Default()

	// Trust and Policy return the current trust and policy; they are
	// read once per decision, so sync may swap them at any time.
	Trust  func() *scanner.Trust
	Policy func() *scanner.Policy

	OnLogFailure LogFailure

	// OutputTimeout bounds each output's Act; zero means 2 seconds.
	OutputTimeout time.Duration

	// decideMu makes each read's decision and its commit one step, so
	// that two inputs cannot both pass a rule that counts earlier
	// passages (a household's quota, anti-passback) before either is
	// logged. Decoding and the outputs stay outside it.
	decideMu sync.Mutex

	// The debounce memory, guarded by decideMu.
	recent    map[recentKey]sighting // debounce
	lastPrune time.Duration          // when (Clock.Mono) repeat last forgot old entries
	emergency bool                   // the policy's emergency flag at the last read

	last        map[string]lastRead // by input: the last read decided there; guarded by decideMu
	forgetTimer bool                // forgetPasses is due to run; guarded by decideMu

	jumps []Jump // clock jumps whose state shift has yet to succeed; guarded by decideMu

	Stats Stats
}

// Stats counts what the gate did. Fields are updated atomically.
type Stats struct {
	Frames, NoCode, Decisions, Allowed, Denied, Repeats atomic.Int64
	LogFailures, Unlogged, OutputErrors, SourceErrors   atomic.Int64

	// StateMovePending: moving the state of a clock jump failed (see
	// Gate.now); nothing is logged until a later read's retry succeeds.
	StateMovePending atomic.Bool
}

// sighting is when (Clock.Mono) a text or a pass was last seen at an
// input; for a text, pass is the key of the pass it holds once that is
// known.
type sighting struct {
	at      time.Duration
	pass    *[32]byte
	exit    bool // at an exit input
	denied  bool // its read was denied; decided at another input: it did not let its holder out at an exit
	decided bool // its read was decided at this input (not a repeat of one decided at another)
}

// lastRead is the last read decided at an input: what an override there
// reverses (Gate.Override).
type lastRead struct {
	at     time.Duration // Clock.Mono
	text   [32]byte      // its debounce key
	pass   *scanner.Pass // nil: no pass verified
	key    [32]byte      // passKey(pass), with pass
	status scanner.Colour
	allow  bool
	reason scanner.Reason
	seq    uint64 // 0: not logged
	later  uint64 // the seq of a later passage of its pass, at another input; 0: none
}

// LastRead is the last read decided at an input, as the gate tells it:
// nothing about whose it was.
type LastRead struct {
	Input  string
	Seq    uint64 // 0: not logged
	Ago    time.Duration
	Allow  bool
	Reason scanner.Reason
	// Reversible: an override naming it reverses it now (Override).
	Reversible bool
}

// LastReads returns the last read decided at each input that has one,
// by input name, for a gatekeeper looking for the read to override.
func (g *Gate) LastReads() []LastRead {
	g.decideMu.Lock()
	defer g.decideMu.Unlock()
	mono := g.Clock.Mono()
	var out []LastRead
	for name, l := range g.last {
		out = append(out, LastRead{Input: name, Seq: l.seq, Ago: mono - l.at, Allow: l.allow, Reason: l.reason,
			Reversible: l.seq != 0 && l.final(mono) == nil})
	}
	slices.SortFunc(out, func(a, b LastRead) int { return strings.Compare(a.Input, b.Input) })
	return out
}

// OverrideWindow is how long after a read an override at its input
// reverses it (Gate.Override).
const OverrideWindow = 2 * time.Minute

type recentKey struct {
	input string
	key   [32]byte
}

func (g *Gate) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

// Run reads every input until ctx is done or all finite inputs are
// exhausted. A read in hand when ctx is cancelled is finished (decided,
// logged, actuated) before Run returns.
func (g *Gate) Run(ctx context.Context, inputs []Input) error {
	var wg sync.WaitGroup
	errs := make([]error, len(inputs))
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.runInput(ctx, in)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

func (g *Gate) runInput(ctx context.Context, in Input) error {
	for {
		r, err := in.Source.Next(ctx)
		switch {
		case err == nil:
			// A frame is decoded under ctx: at a stop its decoding may be
			// given up, and the frame is dropped (it is not a read yet).
			if r.Frame != nil {
				text, ok := g.decode(ctx, in, r.Frame)
				if !ok {
					if ctx.Err() != nil {
						return nil
					}
					continue
				}
				r.Text, r.Frame = text, nil
			}
			// The read in hand is finished even if ctx ends meanwhile,
			// or had ended as the source handed it over. A source that
			// reads on after ctx ended is not asked again.
			g.Handle(context.WithoutCancel(ctx), in, r)
			if ctx.Err() != nil {
				return nil
			}
			continue
		case err == io.EOF: // the source's end; a fault that wraps io.EOF is not
			return nil
		case ctx.Err() != nil:
			return nil
		}
		g.Stats.SourceErrors.Add(1)
		g.logger().Warn("input fault", "input", in.Name, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Handle processes one read from input in: decode, decide, log, actuate.
// It returns the outcome, or nil when there was nothing to decide (no code
// in the frame, or a repeat within the debounce window).
func (g *Gate) Handle(ctx context.Context, in Input, r scanner.Read) *Outcome {
	text := r.Text
	if r.Frame != nil {
		t, ok := g.decode(ctx, in, r.Frame)
		if !ok {
			return nil
		}
		text = t
	}
	return g.decideText(ctx, in, text, r.Name)
}

// decode returns the text of the code in frame, through the input's
// decoder or the gate's (under ctx when it is a ContextDecoder), and
// false when there is none, no decoder, or ctx ended first.
func (g *Gate) decode(ctx context.Context, in Input, frame *image.Gray) (string, bool) {
	g.Stats.Frames.Add(1)
	dec := in.Decoder
	if dec == nil {
		dec = g.Decoder
	}
	if dec == nil {
		return "", false
	}
	var (
		t   string
		err error
	)
	if cd, ok := dec.(ContextDecoder); ok {
		t, err = cd.DecodeContext(ctx, frame)
	} else {
		t, err = dec.Decode(frame)
	}
	if err != nil || t == "" {
		if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
			g.Stats.NoCode.Add(1)
		}
		return "", false
	}
	return t, true
}

func (g *Gate) decideText(ctx context.Context, in Input, text, source string) *Outcome {
	o := g.decideAndLog(in, text, source)
	if o != nil {
		g.act(ctx, o)
	}
	return o
}

// decideAndLog debounces, decides and commits one read; nil for a repeat.
func (g *Gate) decideAndLog(in Input, text, source string) *Outcome {
	g.decideMu.Lock()
	defer g.decideMu.Unlock()
	policy := g.Policy()
	now := g.now()
	// Emergency mode switched on opens the exits at once: a holder denied
	// at one a moment ago, the code still in view, is decided anew, not
	// taken for the same read. (One let out stays one read: a second
	// event would count twice against the household's quota.)
	if em := policy != nil && policy.Emergency; em != g.emergency {
		if em {
			g.forgetDeniedExits()
		}
		g.emergency = em
	}
	// Debounce the raw text first: a camera sees one code in many frames.
	// The debounce runs on the monotonic clock: a wall clock stepped by
	// NTP, back or forward, neither splits one sighting nor joins two.
	mono := g.Clock.Mono()
	tk := textKey(text)
	if g.repeat(in, tk, mono, policy) || g.decidedElsewhere(in, tk, mono, policy) {
		g.Stats.Repeats.Add(1)
		return nil
	}
	gate := scanner.Gate{Site: g.Site, Direction: in.Direction}
	d := scanner.Decide(text, g.Trust(), policy, g.local(now, in.Direction), gate, now)
	// A pass seen in another image (another text) is still one pass.
	var pk [32]byte
	if d.Pass != nil {
		pk = passKey(d.Pass)
		g.tie(in.Name, tk, pk)
		if g.repeat(in, pk, mono, policy) || g.decidedElsewhere(in, pk, mono, policy) {
			g.Stats.Repeats.Add(1)
			return nil
		}
	}
	o := g.commit(in, now, d, nil, source, emergencyExit(policy, in))
	g.noteDenied(in.Name, tk, !o.Decision.Allow)
	if g.last == nil {
		g.last = map[string]lastRead{}
	}
	if d.Pass != nil && o.Decision.Allow {
		g.passedAgain(pk, o.Seq)
	}
	g.last[in.Name] = lastRead{at: mono, text: tk, pass: d.Pass, key: pk, status: d.Status, allow: o.Decision.Allow, reason: o.Decision.Reason, seq: o.Seq}
	if d.Pass != nil && !g.forgetTimer {
		// Whose the read was is kept no longer than an override needs it.
		g.forgetTimer = true
		time.AfterFunc(OverrideWindow+time.Second, g.forgetPasses)
	}
	return o
}

// forgetPasses drops the passes of the last reads that no override can
// reverse any more (OverrideWindow): their IDs and holder stay in memory
// no longer than needed. It runs again when the next of those left is
// due, while there is one.
func (g *Gate) forgetPasses() {
	g.decideMu.Lock()
	defer g.decideMu.Unlock()
	mono := g.Clock.Mono()
	next := time.Duration(-1)
	for name, l := range g.last {
		switch due := l.at + OverrideWindow - mono; {
		case l.pass == nil:
		case due < 0:
			l.pass, l.key = nil, [32]byte{}
			g.last[name] = l
		case next < 0 || due < next:
			next = due
		}
	}
	g.forgetTimer = next >= 0
	if g.forgetTimer {
		time.AfterFunc(next+time.Second, g.forgetPasses)
	}
}

// passedAgain marks the last reads of the pass with key k (passKey) at any
// input as followed by its passage in the read or override with sequence
// seq: reversing them would undo that later passage. The caller holds
// decideMu.
func (g *Gate) passedAgain(k [32]byte, seq uint64) {
	for name, l := range g.last {
		if l.pass != nil && l.later == 0 && l.key == k {
			l.later = seq
			g.last[name] = l
		}
	}
}

// textKey is the debounce key of a read's raw text. Its prefix keeps it
// apart from every pass key, whatever the text holds.
func textKey(text string) [32]byte {
	return sha256.Sum256(append([]byte("text\x00"), text...))
}

// passKey is the debounce key of a pass: its issuer and its ID (an ID is
// its issuer's own).
func passKey(p *scanner.Pass) [32]byte {
	b := binary.AppendUvarint([]byte("pass\x00"), uint64(len(p.Issuer)))
	return sha256.Sum256(append(append(b, p.Issuer...), p.ID...))
}

// noteDenied records on the sighting of the text with key text at input,
// and on that of the pass it holds (tie), that their read was decided
// there, and whether it was denied. The caller holds decideMu.
func (g *Gate) noteDenied(input string, text [32]byte, denied bool) {
	k := recentKey{input, text}
	s, ok := g.recent[k]
	if !ok {
		return
	}
	s.denied, s.decided = denied, true
	g.recent[k] = s
	if s.pass != nil {
		pk := recentKey{input, *s.pass}
		if ps, ok := g.recent[pk]; ok {
			ps.denied, ps.decided = denied, true
			g.recent[pk] = ps
		}
	}
}

// noteReversed records on the sightings of a reversed read's text and
// pass that the gatekeeper let its holder through (allow) or kept them
// back: at its input, where it was decided, in any text of the pass; and
// at the other inputs, where a sighting of them was held back as the same
// read (decidedElsewhere) and goes by it. Emergency mode coming on then
// treats the holder as the gatekeeper decided (forgetDeniedExits). The
// caller holds decideMu.
func (g *Gate) noteReversed(in Input, text, pass [32]byte, allow bool) {
	letOut := allow && in.Direction == scanner.Exit
	for k, s := range g.recent {
		if k.key != text && k.key != pass {
			continue
		}
		switch {
		case k.input == in.Name:
			s.denied, s.decided = !allow, true
		case !s.decided:
			s.denied = !letOut
		default:
			continue
		}
		g.recent[k] = s
	}
}

// decidedElsewhere reports whether another input decided a read of key (a
// text, or a pass) and has seen it within the debounce window of now: a
// phone in view of two lanes' cameras at once, or shown at a second lane
// straight after the first, is one read, as at one input. Decided at an
// entry and read again at the exit beside it, it would otherwise log an
// exit for a holder who went in: a household's exit used up, and
// anti-passback left to deny the real exit. In emergency mode a read at
// an exit is held back only by one that let its holder out at another
// exit: every other is let out. The sighting of key at in records whether
// the read it repeats let its holder out, so that emergency mode coming
// on lets out one it did not (forgetDeniedExits). The caller holds
// decideMu.
func (g *Gate) decidedElsewhere(in Input, key [32]byte, now time.Duration, p *scanner.Policy) bool {
	window := p.DebounceWindow()
	held, letOut := false, false
	for k, s := range g.recent {
		if k.key != key || k.input == in.Name || !s.decided || now < s.at || now-s.at >= window {
			continue
		}
		held = true
		// A text goes by its pass's sighting there, as in
		// forgetDeniedExits.
		if s.pass != nil {
			if ps, ok := g.recent[recentKey{k.input, *s.pass}]; ok {
				s = ps
			}
		}
		letOut = letOut || s.exit && !s.denied
	}
	if !held || emergencyExit(p, in) && !letOut {
		return false
	}
	k := recentKey{in.Name, key}
	if s, ok := g.recent[k]; ok {
		s.denied = !letOut
		g.recent[k] = s
	}
	return true
}

// forgetDeniedExits forgets the sightings at exits of reads that were
// denied, so that those codes, still in view, are decided anew. A text
// that holds a pass goes by the pass's sighting: the pass's last read at
// the input, in whichever text, or its override, says whether its holder
// is still kept back (a second text of a denied pass, a repeat, was never
// decided itself). The caller holds decideMu.
func (g *Gate) forgetDeniedExits() {
	var drop []recentKey
	for k, s := range g.recent {
		if s.pass != nil {
			if ps, ok := g.recent[recentKey{k.input, *s.pass}]; ok {
				s = ps
			}
		}
		if s.exit && s.denied {
			drop = append(drop, k)
		}
	}
	for _, k := range drop {
		delete(g.recent, k)
	}
}

// now reads the clock. When trusted time shows the clock's floor lagged
// (the boot's first trusted time, a later one far ahead, or a floor raised
// at start to the build time: Clock's jumps)
// it first moves the passages stamped with that floor (StateShifter), so
// that they count for anti-passback and quotas as the recent passages they
// are, and do not expire with the old floor at the next commit. The caller
// holds decideMu.
func (g *Gate) now() scanner.Moment {
	m, jumps := g.Clock.NowAndJumps()
	s, ok := g.Memory.(StateShifter)
	if !ok {
		return m
	}
	// A shift that failed (a full log) is tried again at the next
	// decision, in order.
	g.jumps = append(g.jumps, jumps...)
	for len(g.jumps) > 0 {
		j := g.jumps[0]
		n, err := s.ShiftState(j.From, j.To, j.By, j.Trusted)
		if err != nil {
			g.logger().Error("gate state not moved up to the clock's time; trying again at the next read", "err", err)
			break
		}
		if n > 0 {
			g.logger().Info("gate state moved up to the clock's time", "entries", n, "by", j.By.String())
		}
		g.jumps = g.jumps[1:]
	}
	g.Stats.StateMovePending.Store(len(g.jumps) > 0)
	return m
}

// TakeJumps moves now, as the next read would first, the state of the
// clock's jumps so far (a floor raised to the build time at start): the
// log's floor then holds the clock's, so a run that sees no one before it
// stops still leaves the next one its time. A move that fails is tried
// again at the next read.
func (g *Gate) TakeJumps() {
	g.decideMu.Lock()
	defer g.decideMu.Unlock()
	g.now()
}

// FloorRaiser is a log whose time floor can be raised between reads
// (store.Log): Gate.KeepTime raises it through Memory.
type FloorRaiser interface {
	RaiseTimeFloor(time.Time) error
}

// KeepTime raises the log's time floor to the clock's time when that time
// is trusted, as the next read's commit would: after moving the state of
// the clock's jumps (TakeJumps), and not while a move is pending. So a
// trusted time the gate has had reaches the log even when no one comes
// before the power goes, and a pass expired by it stays expired in the
// next boot, trusted time or not. An untrusted clock is never followed.
// It does nothing when Memory is not a FloorRaiser.
func (g *Gate) KeepTime() error {
	g.decideMu.Lock()
	defer g.decideMu.Unlock()
	m := g.now()
	r, ok := g.Memory.(FloorRaiser)
	if !ok || !m.Trusted || len(g.jumps) > 0 {
		return nil
	}
	return r.RaiseTimeFloor(m.Wall)
}

// errShiftPending: the gate state of a clock jump could not be moved yet
// (StateShifter); the read is handled as one that could not be logged.
var errShiftPending = errors.New("gate state not yet moved up to the clock's time; trying again at the next read")

// emergencyExit reports whether every read at input in is to be let out.
func emergencyExit(p *scanner.Policy, in Input) bool {
	return p != nil && p.Emergency && in.Direction == scanner.Exit
}

// Override logs and carries out a gatekeeper's manual decision at input
// in, with their reason.
//
// With read 0 it is about nobody: it opens or keeps shut, and its event
// names no pass. With read the sequence of a read, it reverses that read's
// decision, and is about its pass: its event carries the pass and the
// read's sequence (Event.Overrides), so the log says whose passage the
// gatekeeper decided. Letting a denied holder through is then a passage
// like any other (for anti-passback, and at an exit for the household's
// quota); keeping an allowed holder back undoes the passage the read
// recorded (store.Log.Append). The read must be the last decided at in, at
// most OverrideWindow ago, of a pass verified with a key that may sign it,
// decided the other way, and its pass must not have passed again since;
// a read is reversed once (by an override that was logged). Otherwise
// Override does nothing and returns an error that says why.
func (g *Gate) Override(ctx context.Context, in Input, allow bool, reason string, read uint64) (*Outcome, error) {
	d := scanner.Decision{Allow: allow, Reason: scanner.ReasonOverride, Flagged: true, Screen: scanner.ScreenRed, Text: "Manual override"}
	if allow {
		d.Screen = scanner.ScreenYellow
	}
	if reason == "" {
		reason = "unspecified"
	}
	m := &manual{reason: reason}
	g.decideMu.Lock()
	last, ok := g.last[in.Name]
	if read != 0 {
		if err := g.reversible(in, last, ok, read, allow); err != nil {
			g.decideMu.Unlock()
			return nil, err
		}
		d.Pass, d.Status, m.overrides = last.pass, last.status, last.seq
	}
	o := g.commit(in, g.now(), d, m, "override", emergencyExit(g.Policy(), in))
	// Reversed once logged: an override that could not be logged undid
	// nothing, and may be asked again.
	if m.overrides != 0 && o.Logged {
		delete(g.last, in.Name)
		if o.Decision.Allow {
			g.passedAgain(last.key, o.Seq)
		}
		// Its sightings are now of a read let through, or not: here, in
		// whichever text of its pass is in view, and at the other inputs
		// that hold the code back as the same read.
		g.noteReversed(in, last.text, last.key, o.Decision.Allow)
	}
	g.decideMu.Unlock()
	g.act(ctx, o)
	return o, nil
}

// reversible says why an override allow (or not) at in cannot reverse
// read, given the last read there (ok: there is one); nil when it can.
// The caller holds decideMu.
func (g *Gate) reversible(in Input, last lastRead, ok bool, read uint64, allow bool) error {
	verb := "kept back"
	if allow {
		verb = "let through"
	}
	if !ok || last.seq != read {
		return fmt.Errorf("read %d is not the last read at %s, or was reversed already", read, in.Name)
	}
	if err := last.final(g.Clock.Mono()); err != nil {
		return err
	}
	if last.allow == allow {
		return fmt.Errorf("read %d was %s already", read, verb)
	}
	return nil
}

// final says why no override can reverse the read now (Clock.Mono
// mono), whichever way; nil when one can.
func (l lastRead) final(mono time.Duration) error {
	switch {
	case mono-l.at > OverrideWindow:
		return fmt.Errorf("read %d was more than %v ago", l.seq, OverrideWindow)
	case l.later != 0:
		return fmt.Errorf("read %d's pass has passed again since, in read %d", l.seq, l.later)
	case l.pass == nil:
		return fmt.Errorf("read %d holds no pass verified with a key that may sign it", l.seq)
	}
	return nil
}

// manual is what a gatekeeper's override adds to its decision.
type manual struct {
	reason    string
	overrides uint64 // the sequence of the read it reverses; 0: none
}

// commit logs the decision (m: a gatekeeper's override; nil for a read)
// and applies the log failure rule when it cannot; emergency says every
// read here is to be let out (an exit in emergency mode), which no log
// failure holds back. The caller holds decideMu, and actuates after
// releasing it.
func (g *Gate) commit(in Input, now scanner.Moment, d scanner.Decision, m *manual, source string, emergency bool) *Outcome {
	ev := g.event(in, now, &d, m)
	o := &Outcome{Input: in.Name, Source: source, Site: g.Site, Direction: in.Direction, At: now, Decision: d, Override: ev.Override, Overrides: ev.Overrides}
	// While the state of a clock jump is not moved, nothing is committed:
	// a commit at the new time would expire that state with the old floor.
	var seq uint64
	err := errShiftPending
	if len(g.jumps) == 0 {
		seq, err = g.Log.Append(ev)
	}
	if err == nil {
		o.Seq, o.Logged = seq, true
	} else {
		g.Stats.LogFailures.Add(1)
		g.logger().Error("event not logged", "input", in.Name, "err", err)
		if d.Allow && g.OnLogFailure == FailClosed && !emergency {
			o.Decision.Allow, o.Decision.Reason, o.Decision.Detail = false, ReasonLogFailed, err.Error()
			o.Decision.Screen, o.Decision.Text = scanner.ScreenRed, "Gate log full: call the operator"
		}
		if o.Decision.Allow {
			g.Stats.Unlogged.Add(1)
		}
	}
	g.Stats.Decisions.Add(1)
	if o.Decision.Allow {
		g.Stats.Allowed.Add(1)
	} else {
		g.Stats.Denied.Add(1)
	}
	return o
}

func (g *Gate) event(in Input, now scanner.Moment, d *scanner.Decision, m *manual) *scanner.Event {
	ev := &scanner.Event{
		BootID: g.Clock.BootID(), Mono: g.Clock.Mono(), Wall: now.Wall.UnixNano(), WallTrusted: now.Trusted,
		Site: g.Site, Direction: in.Direction, Input: in.Name,
		Allow: d.Allow, Reason: d.Reason, Status: d.Status, Flagged: d.Flagged, Detail: d.Detail,
	}
	if m != nil {
		ev.Override, ev.Overrides = m.reason, m.overrides
	}
	if p := d.Pass; p != nil {
		ev.Issuer, ev.PassID, ev.Household, ev.Holder, ev.Class = p.Issuer, p.ID, p.Household, p.Holder, p.Class
	}
	return ev
}

// act runs the outputs in order, each bounded in time.
func (g *Gate) act(ctx context.Context, o *Outcome) {
	timeout := g.OutputTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	for _, out := range g.Outputs {
		octx, cancel := context.WithTimeout(ctx, timeout)
		err := out.Act(octx, o)
		cancel()
		if err != nil {
			g.Stats.OutputErrors.Add(1)
			g.logger().Warn("output failed", "output", out.Name(), "seq", o.Seq, "err", err)
		}
	}
}

// repeat reports whether key was seen at input within the debounce
// window of its last sighting, and remembers this sighting: a code held
// up for longer than the window is still one read, until it has been out
// of sight for the window. A text in sight keeps the pass it holds in
// sight too (tie), so the same pass shown next in another image is still
// the same read. The caller holds decideMu.
func (g *Gate) repeat(in Input, key [32]byte, now time.Duration, p *scanner.Policy) bool {
	window := p.DebounceWindow()
	if g.recent == nil {
		g.recent = map[recentKey]sighting{}
	}
	// Forget old entries now and then; the map stays small.
	if now-g.lastPrune > window || len(g.recent) > 4096 {
		for k, s := range g.recent {
			if now-s.at > window {
				delete(g.recent, k)
			}
		}
		g.lastPrune = now
	}
	k := recentKey{in.Name, key}
	s, seen := g.recent[k]
	again := seen && now-s.at < window
	s.at, s.exit = now, in.Direction == scanner.Exit
	if !again {
		// A new sighting: which pass it holds, and whether it is
		// decided here, are told anew.
		s.pass, s.decided = nil, false
	}
	g.recent[k] = s
	if s.pass != nil {
		pk := recentKey{in.Name, *s.pass}
		ps := g.recent[pk]
		ps.at = now
		g.recent[pk] = ps
	}
	return again
}

// tie records that the text with key text, at input, holds the pass with
// key pass. The caller holds decideMu.
func (g *Gate) tie(input string, text, pass [32]byte) {
	k := recentKey{input, text}
	if s, ok := g.recent[k]; ok {
		s.pass = &pass
		g.recent[k] = s
	}
}

// local adapts Memory to scanner.Local, answering conservatively when the
// state cannot be read: a pass is taken as just seen this way, a household
// as over its quota. Those rules only bite where the policy turns them on.
func (g *Gate) local(now scanner.Moment, dir scanner.Direction) scanner.Local {
	if g.Memory == nil {
		return nil
	}
	return memoryLocal{g, now, dir}
}

type memoryLocal struct {
	g   *Gate
	now scanner.Moment
	dir scanner.Direction
}

func (m memoryLocal) LastSeen(issuer string, id []byte) (scanner.Direction, time.Time, bool) {
	dir, at, ok, err := m.g.Memory.LastSeen(issuer, id)
	if err != nil {
		m.g.logger().Error("gate state unreadable", "err", err)
		return m.dir, m.now.Wall, true
	}
	return dir, at, ok
}

func (m memoryLocal) HouseholdExits(issuer string, h []byte, since time.Time) int {
	n, err := m.g.Memory.HouseholdExits(issuer, h, since)
	if err != nil {
		m.g.logger().Error("gate state unreadable", "err", err)
		return int(^uint(0) >> 1)
	}
	return n
}

// DecoderFunc adapts a function to Decoder.
type DecoderFunc func(img *image.Gray) (string, error)

// Decode implements Decoder.
func (f DecoderFunc) Decode(img *image.Gray) (string, error) { return f(img) }
