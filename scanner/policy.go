package scanner

import (
	"crypto/ed25519"
	"fmt"
	"time"
)

// Action is what a rule does with a read.
type Action uint8

// Actions. The zero value denies, so a rule left out of a policy fails safe.
const (
	Deny      Action = 0
	Allow     Action = 1
	AllowFlag Action = 2 // allow, and flag the event for review
)

var actionNames = [...]string{"deny", "allow", "flag"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: deny, allow or flag.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q (want deny, allow or flag)", b)
}

// AntiPassback is how a gate treats a pass that passes the same way twice
// without passing the other way between.
type AntiPassback uint8

// Anti-passback modes.
const (
	PassbackOff   AntiPassback = 0
	PassbackSoft  AntiPassback = 1 // allow and flag
	PassbackHard  AntiPassback = 2 // deny
	PassbackTimed AntiPassback = 3 // deny within Rules.PassbackWindow, then allow
)

var passbackNames = [...]string{"off", "soft", "hard", "timed"}

func (m AntiPassback) String() string {
	if int(m) < len(passbackNames) {
		return passbackNames[m]
	}
	return fmt.Sprintf("antipassback(%d)", uint8(m))
}

// MarshalText implements encoding.TextMarshaler.
func (m AntiPassback) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: off, soft, hard or timed.
func (m *AntiPassback) UnmarshalText(b []byte) error {
	for i, n := range passbackNames {
		if n == string(b) {
			*m = AntiPassback(i)
			return nil
		}
	}
	return fmt.Errorf("unknown anti-passback mode %q (want off, soft, hard or timed)", b)
}

// Rules are a site's rules for one direction.
type Rules struct {
	// What each colour may do.
	Green  Action `cbor:"1,keyasint" toml:"green"`
	Yellow Action `cbor:"2,keyasint" toml:"yellow"`
	Red    Action `cbor:"3,keyasint" toml:"red"`

	// Classes allowed this way; empty allows every class.
	Classes ClassList `cbor:"4,keyasint,omitzero" toml:"classes"`

	AntiPassback   AntiPassback  `cbor:"5,keyasint,omitempty" toml:"anti_passback"`
	PassbackWindow time.Duration `cbor:"6,keyasint,omitempty" toml:"passback_window"` // for PassbackTimed

	// Household quota: at most QuotaCount allowed exits per household in
	// any QuotaWindow. Zero QuotaCount: no quota. Counts exits only.
	QuotaCount  int           `cbor:"7,keyasint,omitempty" toml:"quota_count"`
	QuotaWindow time.Duration `cbor:"8,keyasint,omitempty" toml:"quota_window"`

	// Quarantine denies a pass whose quarantine-until is still ahead.
	Quarantine bool `cbor:"9,keyasint,omitempty" toml:"quarantine"`
}

// ClassList is a list of classes. It is encoded as a CBOR array of class
// numbers (docs/trust.md); a plain slice of a uint8 type would be encoded
// as a byte string.
type ClassList []Class

// IsZero reports whether the list is empty: an empty list is left out of
// a policy's encoding, as the other rules' zero values are.
func (l ClassList) IsZero() bool { return len(l) == 0 }

// MarshalCBOR implements cbor.Marshaler.
func (l ClassList) MarshalCBOR() ([]byte, error) {
	a := make([]uint64, 0, len(l))
	for _, c := range l {
		a = append(a, uint64(c))
	}
	return encMode.Marshal(a)
}

// UnmarshalCBOR implements cbor.Unmarshaler: an array of class numbers
// (each checked by Policy.Check), not a byte string.
func (l *ClassList) UnmarshalCBOR(b []byte) error {
	var a []uint64
	if err := decMode.Unmarshal(b, &a); err != nil {
		return err
	}
	out := make(ClassList, 0, len(a))
	for _, v := range a {
		if v > 0xff {
			return fmt.Errorf("class %d out of range", v)
		}
		out = append(out, Class(v))
	}
	*l = out
	return nil
}

func (r *Rules) colour(c Colour) Action {
	switch c {
	case Green:
		return r.Green
	case Yellow:
		return r.Yellow
	case Red:
		return r.Red
	}
	return Deny
}

func (r *Rules) allowsClass(c Class) bool {
	if len(r.Classes) == 0 {
		return true
	}
	for _, k := range r.Classes {
		if k == c {
			return true
		}
	}
	return false
}

// Defaults for zero Policy fields.
const (
	DefaultClockSkew = 2 * time.Minute
	// MaxClockSkew bounds the slack used: a day of it would let passes
	// in a day past their expiry, at trusted time too. A larger ClockSkew
	// counts as MaxClockSkew (a signed policy that says more is not
	// refused whole for it: its other rules still hold).
	MaxClockSkew    = time.Hour
	DefaultDebounce = 5 * time.Second
	// MaxDebounce bounds the debounce used: a pass back at the same input
	// within the window is neither decided nor logged, so a window of
	// minutes would turn away a holder coming back, with no trace. A
	// larger Debounce counts as MaxDebounce.
	MaxDebounce = time.Minute
)

// Policy is a site's rules. It is a signed document from the hub, or comes
// from the gate's config; the type is the same.
type Policy struct {
	Version  uint64 `cbor:"1,keyasint" toml:"-"`
	Site     string `cbor:"2,keyasint" toml:"-"`
	IssuedAt int64  `cbor:"3,keyasint" toml:"-"` // Unix seconds

	Entry Rules `cbor:"4,keyasint" toml:"entry"`
	Exit  Rules `cbor:"5,keyasint" toml:"exit"`

	// MaxTrustAge is how old the trust data (the last time the hub
	// confirmed it current) may be; zero means no limit. Past it,
	// StaleTrust says what happens: Deny, or AllowFlag (Allow is taken as
	// AllowFlag: a passage past a fallback is always flagged).
	MaxTrustAge time.Duration `cbor:"6,keyasint,omitempty" toml:"max_trust_age"`
	StaleTrust  Action        `cbor:"7,keyasint,omitempty" toml:"stale_trust"`

	// ClockUnknown is what happens when the gate has no trusted wall
	// time: Deny, or AllowFlag (Allow is taken as AllowFlag). A pass
	// expired even by the time floor is denied either way.
	ClockUnknown Action `cbor:"8,keyasint,omitempty" toml:"clock_unknown"`

	// ClockSkew is the slack allowed on not-before, issued-at and
	// expiry; zero means DefaultClockSkew, and at most MaxClockSkew is
	// used.
	ClockSkew time.Duration `cbor:"9,keyasint,omitempty" toml:"clock_skew"`

	// Emergency opens every exit: nothing is denied for egress, and
	// every read is still logged.
	Emergency bool `cbor:"10,keyasint,omitempty" toml:"emergency"`

	// Debounce: the same pass read again within it at the same input, or
	// at another while the input that decided it still sees it, is one
	// decision; zero means DefaultDebounce, and at most MaxDebounce is
	// used.
	Debounce time.Duration `cbor:"11,keyasint,omitempty" toml:"debounce"`

	signer []byte // the kid that signed it; nil for a policy not parsed
}

// Rules returns the rules for direction d.
func (p *Policy) Rules(d Direction) *Rules {
	if d == Exit {
		return &p.Exit
	}
	return &p.Entry
}

func (p *Policy) skew() time.Duration {
	if p.ClockSkew > 0 {
		return min(p.ClockSkew, MaxClockSkew)
	}
	return DefaultClockSkew
}

// DebounceWindow returns the debounce window, applying the default and
// the bound; a nil policy has the default.
func (p *Policy) DebounceWindow() time.Duration {
	if p != nil && p.Debounce > 0 {
		return min(p.Debounce, MaxDebounce)
	}
	return DefaultDebounce
}

// DefaultPolicy is the policy of a gate that has been told nothing else:
// green passes either way, yellow may enter but not leave, red may enter to
// go home (flagged) but not leave, quarantine enforced on exit, unknown
// clock and stale trust allowed but flagged.
func DefaultPolicy(site string) *Policy {
	return &Policy{
		Site:         site,
		Entry:        Rules{Green: Allow, Yellow: Allow, Red: AllowFlag},
		Exit:         Rules{Green: Allow, Yellow: Deny, Red: Deny, Quarantine: true},
		StaleTrust:   AllowFlag,
		ClockUnknown: AllowFlag,
	}
}

// MaxWindow bounds a policy's look-back windows (passback_window,
// quota_window): a longer one is a mistake. The gate keeps the state they
// look back on (hashed, docs/threat-model.md) for as long as the longest
// of them.
const MaxWindow = 366 * 24 * time.Hour

// PolicyError is a policy value that does not hold. Key names it as the
// config's [policy] table does, e.g. "exit.quota_window".
type PolicyError struct {
	Key     string
	Problem string
}

func (e *PolicyError) Error() string { return e.Key + ": " + e.Problem }

// Check validates a policy's values; a *PolicyError names the first bad
// one.
func (p *Policy) Check() error {
	bad := func(key, format string, args ...any) error {
		return &PolicyError{Key: key, Problem: fmt.Sprintf(format, args...)}
	}
	for _, dir := range []struct {
		name string
		r    *Rules
	}{{"entry", &p.Entry}, {"exit", &p.Exit}} {
		r, key := dir.r, func(k string) string { return dir.name + "." + k }
		for _, c := range []struct {
			name string
			a    Action
		}{{"green", r.Green}, {"yellow", r.Yellow}, {"red", r.Red}} {
			if c.a > AllowFlag {
				return bad(key(c.name), "action %d out of range", c.a)
			}
		}
		for _, c := range r.Classes {
			if c > Staff {
				return bad(key("classes"), "class %d out of range", c)
			}
		}
		switch {
		case r.AntiPassback > PassbackTimed:
			return bad(key("anti_passback"), "mode %d out of range", r.AntiPassback)
		case r.PassbackWindow < 0 || r.PassbackWindow > MaxWindow:
			return bad(key("passback_window"), "%v: want 0 to %v", r.PassbackWindow, MaxWindow)
		case r.AntiPassback == PassbackTimed && r.PassbackWindow == 0:
			return bad(key("passback_window"), "timed anti-passback needs a positive window")
		case r.QuotaCount < 0:
			return bad(key("quota_count"), "negative")
		case r.QuotaWindow < 0 || r.QuotaWindow > MaxWindow:
			return bad(key("quota_window"), "%v: want 0 to %v", r.QuotaWindow, MaxWindow)
		case r.QuotaCount > 0 && r.QuotaWindow == 0:
			return bad(key("quota_window"), "quota_count needs a positive window")
		}
	}
	switch {
	case p.StaleTrust > AllowFlag:
		return bad("stale_trust", "action %d out of range", p.StaleTrust)
	case p.ClockUnknown > AllowFlag:
		return bad("clock_unknown", "action %d out of range", p.ClockUnknown)
	case p.MaxTrustAge < 0:
		return bad("max_trust_age", "negative")
	case p.ClockSkew < 0:
		return bad("clock_skew", "negative")
	case p.Debounce < 0:
		return bad("debounce", "negative")
	case len(p.Site) > MaxSiteLen:
		return bad("site", "longer than %d bytes", MaxSiteLen)
	}
	return nil
}

// LongestWindow returns the longest look-back window of the policy's
// rules: how long the gate must remember passages for it.
func (p *Policy) LongestWindow() time.Duration {
	return max(p.Entry.PassbackWindow, p.Entry.QuotaWindow, p.Exit.PassbackWindow, p.Exit.QuotaWindow)
}

// SignPolicy signs a policy with key (the root key or a policy signer for
// the policy's site).
func SignPolicy(p *Policy, key ed25519.PrivateKey) ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("sign policy: %w", err)
	}
	payload, err := encMode.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sign policy: %w", err)
	}
	return signEnvelope(key, ctPolicy, payload)
}

// ParsePolicy verifies and decodes a policy signed by root or by a policy
// signer in keys that serves the policy's site.
func ParsePolicy(raw []byte, root ed25519.PublicKey, keys *KeySet) (*Policy, error) {
	e, err := parseEnvelope(raw, ctPolicy)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var p Policy
	if err := decodeDeterministic(e.payload, &p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if err := checkSigner(e, root, keys, RolePolicySigner, "", p.Site, p.IssuedAt); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if p.Site == "" {
		return nil, fmt.Errorf("policy: %w", formatErr("no site"))
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("policy: %w", formatErr("%v", err))
	}
	p.signer = e.header.KID
	return &p, nil
}
