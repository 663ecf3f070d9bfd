package gate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/scanner"
	"pgregory.net/rapid"
)

// For any sequence of reads, times and policies (emergency off), with or
// without a signature cache: a pass whose signature fails is never allowed, and every allowed read has its
// event committed before any output acts on it.
func TestPropertyForgedNeverAllowedAndCommitFirst(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		r := newRig(t, func(p *scanner.Policy) {
			actions := []scanner.Action{scanner.Deny, scanner.Allow, scanner.AllowFlag}
			for _, rules := range []*scanner.Rules{&p.Entry, &p.Exit} {
				rules.Green = rapid.SampledFrom(actions).Draw(rt, "green")
				rules.Yellow = rapid.SampledFrom(actions).Draw(rt, "yellow")
				rules.Red = rapid.SampledFrom(actions).Draw(rt, "red")
				rules.AntiPassback = scanner.AntiPassback(rapid.IntRange(0, 3).Draw(rt, "apb"))
				rules.PassbackWindow = time.Duration(rapid.IntRange(1, 120).Draw(rt, "apbwin")) * time.Minute
				if rapid.Bool().Draw(rt, "quota") {
					rules.QuotaCount, rules.QuotaWindow = rapid.IntRange(1, 3).Draw(rt, "quotan"), 48*time.Hour
				}
				rules.Quarantine = rapid.Bool().Draw(rt, "quarantine")
			}
			p.ClockUnknown = rapid.SampledFrom([]scanner.Action{scanner.Deny, scanner.AllowFlag}).Draw(rt, "clock")
			p.StaleTrust = rapid.SampledFrom([]scanner.Action{scanner.Deny, scanner.AllowFlag}).Draw(rt, "stale")
			p.MaxTrustAge = time.Duration(rapid.IntRange(0, 72).Draw(rt, "maxage")) * time.Hour
		})
		if rapid.Bool().Draw(rt, "sigcache") {
			// As the daemon runs: genuine passes shown again skip the
			// signature arithmetic.
			r.trust = r.trust.WithSigCache(scanner.NewSigCache(rapid.IntRange(1, 4).Draw(rt, "cachesize")))
		}
		passes := []string{}
		for i := range rapid.IntRange(1, 4).Draw(rt, "npasses") {
			passes = append(passes, r.issue(fmt.Sprint(i), func(p *scanner.Pass) {
				p.Status = scanner.Colour(rapid.IntRange(0, 2).Draw(rt, "status"))
				p.Household = []byte{byte(rapid.IntRange(0, 1).Draw(rt, "house"))}
			}))
		}
		forged := map[string]bool{}
		for range rapid.IntRange(1, 12).Draw(rt, "nreads") {
			text := rapid.SampledFrom(passes).Draw(rt, "pass")
			if rapid.Bool().Draw(rt, "tamper") {
				i := rapid.IntRange(len(scanner.PassPrefix), len(text)-1).Draw(rt, "at")
				c := "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[rapid.IntRange(0, 44).Draw(rt, "char")]
				if text[i] == c {
					continue
				}
				text = text[:i] + string(c) + text[i+1:]
				forged[text] = true
			}
			in := entry
			if rapid.Bool().Draw(rt, "exit") {
				in = exit
			}
			r.advance(time.Duration(rapid.IntRange(0, 30*3600).Draw(rt, "dt")) * time.Second)
			o := r.g.Handle(context.Background(), in, scanner.Read{Text: text})
			if o == nil {
				continue
			}
			if o.Decision.Allow && forged[text] {
				rt.Fatalf("a forged pass was allowed: %s", o.Decision.Reason)
			}
			if o.Decision.Allow && !o.Logged {
				rt.Fatalf("allowed without logging")
			}
		}
		// Every act follows its commit.
		committed := map[string]bool{}
		for _, step := range r.order {
			seq, isAct := strings.CutPrefix(step, "act ")
			if !isAct {
				committed[strings.TrimPrefix(step, "commit ")] = true
			} else if !committed[seq] {
				rt.Fatalf("output acted on %s before its commit: %v", seq, r.order)
			}
		}
	})
}

// For any sequence of reads of one issuer's passes, reads of another
// issuer's passes with the same pass and household IDs, and of passes
// signed by the other's key that name the first issuer, with overrides of
// them and emergency mode in between, change none of the first issuer's
// decisions: an ID is its issuer's own, and nobody else's key speaks for
// it.
func TestPropertyIssuersApart(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var rules [2]scanner.Rules // entry, exit: the same for both gates
		for i := range rules {
			rules[i] = *scanner.DefaultPolicy("north-gate").Rules(scanner.Direction(i))
			rules[i].AntiPassback = scanner.AntiPassback(rapid.IntRange(0, 3).Draw(rt, "apb"))
			rules[i].PassbackWindow = time.Duration(rapid.IntRange(1, 120).Draw(rt, "apbwin")) * time.Minute
			rules[i].QuotaCount, rules[i].QuotaWindow = rapid.IntRange(0, 2).Draw(rt, "quotan"), 48*time.Hour
		}
		policy := func(p *scanner.Policy) { p.Entry, p.Exit = rules[0], rules[1] }
		alone, mixed := newRig(t, policy), newRig(t, policy)
		nine := func(p *scanner.Pass) { p.Issuer = "compound-9" }
		type pass struct{ own, other, forged string }
		var passes []pass
		for i := range rapid.IntRange(1, 3).Draw(rt, "npasses") {
			house := func(p *scanner.Pass) { p.Household = []byte{byte(rapid.IntRange(0, 1).Draw(rt, "house"))} }
			id := fmt.Sprint(i)
			passes = append(passes, pass{alone.issue(id, house), alone.issue(id, house, nine), alone.issueWith(issuers["compound-9"], id, house)})
		}
		inputs := []gate.Input{entry, exit}
		for step := range rapid.IntRange(1, 15).Draw(rt, "nreads") {
			p := rapid.SampledFrom(passes).Draw(rt, "pass")
			in := rapid.SampledFrom(inputs).Draw(rt, "input")
			dt := time.Duration(rapid.IntRange(6, 30*3600).Draw(rt, "dt")) * time.Second
			alone.advance(dt)
			mixed.advance(dt)
			// The other issuer's reads and overrides, in the mixed gate only,
			// in emergency mode or not.
			mixed.setEmergency(rapid.Bool().Draw(rt, "emergency"))
			for range rapid.IntRange(0, 3).Draw(rt, "others") {
				text := p.other
				if rapid.Bool().Draw(rt, "forged") {
					text = p.forged
				}
				o := mixed.g.Handle(context.Background(), rapid.SampledFrom(inputs).Draw(rt, "otherinput"), scanner.Read{Text: text})
				if o != nil && rapid.Bool().Draw(rt, "override") {
					_, _ = mixed.g.Override(context.Background(), gate.Input{Name: o.Input, Direction: o.Direction}, !o.Decision.Allow, "x", o.Seq)
				}
				gap := time.Duration(rapid.IntRange(6, 60).Draw(rt, "gap")) * time.Second
				mixed.advance(gap)
				alone.advance(gap)
			}
			mixed.setEmergency(false)
			a := alone.g.Handle(context.Background(), in, scanner.Read{Text: p.own})
			m := mixed.g.Handle(context.Background(), in, scanner.Read{Text: p.own})
			if (a == nil) != (m == nil) || a != nil && (a.Decision.Allow != m.Decision.Allow || a.Decision.Reason != m.Decision.Reason || a.Decision.Flagged != m.Decision.Flagged) {
				rt.Fatalf("step %d: alone %+v, beside the other issuer %+v", step, a, m)
			}
		}
	})
}

// The clock: a gate booted at 1970, a clock jumped back a year and forward
// a year.
func TestClock(t *testing.T) {
	r := newRig(t, func(p *scanner.Policy) { p.ClockUnknown = scanner.Deny })
	text := r.issue("a") // valid t0 .. t0+30d
	clock := r.g.Clock

	// Booted at 1970, not synchronised: untrusted, decided as clock unknown.
	r.mu.Lock()
	r.wall = time.Unix(0, 0)
	r.mu.Unlock()
	clock.Synced = func() bool { return false }
	m := clock.Now()
	if m.Trusted || m.Wall.Before(t0) {
		t.Fatalf("boot at 1970: %+v, want untrusted at or above the floor %v", m, t0)
	}
	r.expect(r.read(entry, text), false, scanner.ReasonClockUnknown)

	// Jumped back a year but claiming to be synchronised: below the floor,
	// so not trusted.
	clock.Synced = func() bool { return true }
	r.mu.Lock()
	r.wall = t0.Add(-365 * 24 * time.Hour)
	r.mu.Unlock()
	if m := clock.Now(); m.Trusted || m.Wall.Before(t0) {
		t.Fatalf("clock a year back: %+v", m)
	}

	// Forward a year and synchronised: trusted, and the pass is expired
	// by trusted time.
	r.mu.Lock()
	r.wall = t0.Add(365 * 24 * time.Hour)
	r.mu.Unlock()
	if m := clock.Now(); !m.Trusted {
		t.Fatalf("clock a year ahead, synchronised: %+v", m)
	}
	r.advance(time.Minute)
	r.expect(r.read(exit, text), false, scanner.ReasonExpired)

	// The floor persisted by the log moved forward with the last event:
	// after a "reboot" at 1970 the lower bound is past the pass's expiry,
	// so it stays expired even untrusted.
	floor := r.log.TimeFloor()
	if floor.Before(t0.Add(364 * 24 * time.Hour)) {
		t.Fatalf("time floor %v did not follow the events", floor)
	}
	reboot := gate.NewClock(floor)
	reboot.Wall = func() time.Time { return time.Unix(0, 0) }
	r.g.Clock = reboot
	r.mu.Lock()
	r.policy.ClockUnknown = scanner.AllowFlag
	r.mu.Unlock()
	r.expect(r.read(entry, text), false, scanner.ReasonExpired)

	// A trusted time from the hub makes the clock trusted again.
	reboot.SetTrusted(floor.Add(time.Hour))
	if m := reboot.Now(); !m.Trusted || m.Wall.Before(floor.Add(time.Hour)) {
		t.Fatalf("after SetTrusted: %+v", m)
	}
}
