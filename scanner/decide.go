package scanner

import (
	"time"
)

// Gate is where a read happens.
type Gate struct {
	Site      string
	Direction Direction
}

// Moment is the decision's time. Wall is the best wall time the gate has;
// when Trusted is false it is only a lower bound (the persisted time floor
// advanced by the monotonic clock), and the true time may be later.
type Moment struct {
	Wall    time.Time
	Trusted bool
}

// Local is the gate's own memory of earlier reads, for anti-passback and
// the household quota. Implementations key it by a keyed hash, never the raw
// IDs, and answer conservatively when they cannot read their state (for
// example by reporting a recent pass the same way). A pass ID or a
// household ID is its issuer's: two issuers' with one ID are two.
type Local interface {
	// LastSeen returns the direction and time of the last allowed
	// passage of the issuer's pass; ok is false when none is remembered.
	LastSeen(issuer string, passID []byte) (dir Direction, at time.Time, ok bool)
	// HouseholdExits counts the issuer's household's allowed exits since
	// a time.
	HouseholdExits(issuer string, household []byte, since time.Time) int
}

// Screen colours: what the gatekeeper's display shows.
const (
	ScreenGreen  = "green"  // allowed
	ScreenYellow = "yellow" // allowed, flagged for review
	ScreenRed    = "red"    // denied
)

// Decision is the outcome of one read. A denial is a value, never an error.
type Decision struct {
	Allow   bool
	Reason  Reason
	Detail  string // technical detail for operators; never personal data
	Flagged bool   // allowed, but to be reviewed (soft anti-passback, stale trust, …)
	Screen  string // ScreenGreen, ScreenYellow or ScreenRed
	Text    string // what the gatekeeper reads: plain words

	// The verified pass and its effective colour; Pass is nil when the
	// read did not get as far as a pass verified with a key that may sign
	// it (its issuer's, valid when it was issued).
	Pass   *Pass
	Status Colour
}

// Decide decides one read: the pass text read at gate g at time now, under
// trust t and policy p, with the gate's local memory (nil for none). It is a
// pure function: it never does I/O, never panics on any text, and returns a
// denial, never an error, for a bad pass. A nil policy means
// DefaultPolicy(g.Site).
func Decide(text string, t *Trust, p *Policy, local Local, g Gate, now Moment) Decision {
	if p == nil {
		p = DefaultPolicy(g.Site)
	}
	d := decide(text, t, p, local, g, now)
	if p.Emergency && g.Direction == Exit && !d.Allow {
		d = Decision{Allow: true, Reason: ReasonEmergency, Detail: string(d.Reason), Flagged: true, Pass: d.Pass, Status: d.Status}
	}
	d.Screen = ScreenRed
	if d.Allow {
		d.Screen = ScreenGreen
		if d.Flagged {
			d.Screen = ScreenYellow
		}
	}
	d.Text = displayText(&d)
	return d
}

func deny(r Reason, detail string) Decision {
	return Decision{Reason: r, Detail: detail}
}

func decide(text string, t *Trust, p *Policy, local Local, g Gate, now Moment) Decision {
	e, err := parsePassEnvelope(text)
	if err != nil {
		return deny(ReasonMalformed, err.Error())
	}
	var keys *KeySet
	if t != nil {
		keys = t.Keys
	}
	k := keys.lookup(e.header.KID, RolePassIssuer)
	if k == nil {
		return deny(ReasonUnknownKey, "no pass-issuer key with this kid")
	}
	if !e.verifyCached(k.Public, t.sigs) {
		return deny(ReasonBadSignature, "signature does not verify")
	}
	pass, err := parsePassClaims(e.payload, e.header.KID)
	if err != nil {
		return deny(ReasonMalformed, err.Error())
	}
	d := Decision{Pass: pass, Status: pass.Status}
	denyWith := func(r Reason, detail string) Decision {
		d.Reason, d.Detail = r, detail
		return d
	}
	// A key that may not sign this pass vouches for none of its claims:
	// the decision carries no pass, so that nothing (an event, the gate
	// state, even in emergency mode; an override) acts on its IDs.
	if k.Issuer != "" && k.Issuer != pass.Issuer {
		return deny(ReasonUnknownKey, "key does not sign for this issuer")
	}
	if !k.validAt(pass.IssuedAt) {
		return deny(ReasonUnknownKey, "key not valid when the pass was issued")
	}
	// The window bounds the pass to its expiry too: once it has ended,
	// nothing the key signs is valid, however it is dated (a key leaked
	// after its retirement date signs no pass that opens a gate).
	if k.NotAfter != 0 && pass.Expiry.Unix() > k.NotAfter {
		return deny(ReasonUnknownKey, "pass expires after its key's window")
	}
	if !k.servesSite(g.Site) {
		return denyWith(ReasonWrongSite, "key does not serve this site")
	}

	// Time. An untrusted Wall is a lower bound: expiry still holds
	// against it, not-before cannot be judged.
	skew := p.skew()
	if !now.Wall.Before(pass.Expiry.Add(skew)) {
		return denyWith(ReasonExpired, "")
	}
	if now.Trusted && now.Wall.Add(skew).Before(pass.NotBefore) {
		return denyWith(ReasonNotYetValid, "")
	}
	// Nor before it was issued. Its issued-at picks the key and the status
	// lists that apply: a pass dated ahead would escape every list signed
	// until then (no revoking it), and use a key before its window opens.
	if now.Trusted && now.Wall.Add(skew).Before(pass.IssuedAt) {
		return denyWith(ReasonNotYetValid, "issued in the future")
	}
	if !now.Trusted {
		if p.ClockUnknown == Deny {
			return denyWith(ReasonClockUnknown, "")
		}
		d.Flagged = true
		d.Detail = string(ReasonClockUnknown)
	}

	if !pass.ValidFor(g.Site) {
		return denyWith(ReasonWrongSite, "")
	}

	// Trust age, measured from when the hub last confirmed it current.
	if p.MaxTrustAge > 0 && (t.FreshAt.IsZero() || now.Wall.Sub(t.FreshAt) > p.MaxTrustAge) {
		if p.StaleTrust == Deny {
			return denyWith(ReasonTrustTooOld, "")
		}
		d.Flagged = true
		d.Detail = string(ReasonTrustTooOld)
	}

	// Colour: the status list, when it is newer than the pass and
	// covers its index, overrides the colour at issue.
	if l := t.Status[pass.Issuer]; l != nil && !l.IssuedAt.Before(pass.IssuedAt) {
		if c, ok := l.Get(pass.Index); ok {
			d.Status = c
		}
	}
	if d.Status == Revoked {
		return denyWith(ReasonRevoked, "")
	}
	rules := p.Rules(g.Direction)
	switch rules.colour(d.Status) {
	case Deny:
		if d.Status == Red {
			return denyWith(ReasonStatusRed, "")
		}
		return denyWith(ReasonStatusYellow, "")
	case AllowFlag:
		d.Flagged = true
	}

	if !rules.allowsClass(pass.Class) {
		return denyWith(ReasonClass, pass.Class.String())
	}
	if rules.Quarantine && now.Wall.Before(pass.QuarantineUntil) {
		return denyWith(ReasonQuarantine, "")
	}

	if local != nil {
		if dir, at, ok := local.LastSeen(pass.Issuer, pass.ID); ok && dir == g.Direction {
			switch rules.AntiPassback {
			case PassbackSoft:
				d.Flagged = true
				d.Detail = string(ReasonAntiPassback)
			case PassbackHard:
				return denyWith(ReasonAntiPassback, "")
			case PassbackTimed:
				if now.Wall.Sub(at) < rules.PassbackWindow {
					return denyWith(ReasonAntiPassback, "")
				}
			}
		}
		if g.Direction == Exit && rules.QuotaCount > 0 &&
			local.HouseholdExits(pass.Issuer, pass.Household, now.Wall.Add(-rules.QuotaWindow)) >= rules.QuotaCount {
			return denyWith(ReasonQuota, "")
		}
	}
	d.Allow = true
	d.Reason = ReasonOK
	return d
}

var reasonText = map[Reason]string{
	ReasonMalformed:    "Not a valid pass",
	ReasonUnknownKey:   "Pass from an unknown issuer",
	ReasonBadSignature: "Forged or damaged pass",
	ReasonNotYetValid:  "Pass not valid yet",
	ReasonExpired:      "Pass expired",
	ReasonRevoked:      "Pass withdrawn",
	ReasonStatusRed:    "Red status: may not pass",
	ReasonStatusYellow: "Yellow status: may not pass",
	ReasonWrongSite:    "Pass not valid here",
	ReasonClass:        "Not allowed this way",
	ReasonAntiPassback: "Already passed this way",
	ReasonQuota:        "Household exit already used",
	ReasonQuarantine:   "In quarantine: may not leave",
	ReasonTrustTooOld:  "Gate data out of date",
	ReasonClockUnknown: "Gate clock not set",
	ReasonEmergency:    "Emergency: exit open",
	ReasonOverride:     "Manual override",
}

// displayText is what the screen says: the reason in plain words and, for
// a verified pass, its holder text.
func displayText(d *Decision) string {
	s, ok := reasonText[d.Reason]
	if !ok {
		s = "Welcome"
		if d.Flagged {
			s = "Allowed: check"
		}
	}
	if d.Pass != nil && d.Pass.Holder != "" {
		s += " · " + d.Pass.Holder
	}
	return s
}
