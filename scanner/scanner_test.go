package scanner

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

func testTrust(t testing.TB) *Trust {
	t.Helper()
	return trustWith(t, &KeySet{Version: 1, Keys: []Key{
		keyEntry(vecIssuer, RolePassIssuer, "compound-7"),
		keyEntry(vecStatus, RoleStatusSigner, "compound-7"),
	}})
}

// trustWith is the trust of the root key vecRoot with key set ks.
func trustWith(t testing.TB, ks *KeySet) *Trust {
	t.Helper()
	raw, err := SignKeySet(ks, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrust(pub(vecRoot)).WithKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

var gateIn = Gate{Site: "north-gate", Direction: Entry}

func at(d time.Duration) Moment { return Moment{Wall: vecT0.Add(d), Trusted: true} }

// Changing any one character after the prefix must never give an allow.
func TestSingleCharacterChangeNeverAllows(t *testing.T) {
	tr := testTrust(t)
	good := mustIssue(t, vecPass(nil), vecIssuer)
	if d := Decide(good, tr, nil, nil, gateIn, at(time.Hour)); !d.Allow {
		t.Fatalf("the unchanged pass is denied: %s %s", d.Reason, d.Detail)
	}
	step := 1
	if testing.Short() || raceEnabled {
		step = 7
	}
	reasons := map[Reason]int{}
	for i := len(PassPrefix); i < len(good); i++ {
		for j := 0; j < len(base45Alphabet); j += step {
			c := base45Alphabet[(j+i)%len(base45Alphabet)]
			if c == good[i] {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			d := Decide(bad, tr, nil, nil, gateIn, at(time.Hour))
			if d.Allow {
				t.Fatalf("changing character %d to %q gives an allow", i, c)
			}
			reasons[d.Reason]++
		}
	}
	t.Logf("deny reasons: %v", reasons)
	if reasons[ReasonBadSignature] == 0 || reasons[ReasonMalformed] == 0 {
		t.Errorf("expected both malformed and bad-signature denials, got %v", reasons)
	}
}

func TestIssueRefusesBadPass(t *testing.T) {
	for name, mod := range map[string]func(*Pass){
		"no sites":          func(p *Pass) { p.Sites = nil },
		"long holder":       func(p *Pass) { p.Holder = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH" },
		"short id":          func(p *Pass) { p.ID = []byte{1} },
		"expiry before nbf": func(p *Pass) { p.Expiry = p.NotBefore.Add(-time.Second) },
		"no household":      func(p *Pass) { p.Household = nil },
		"control character": func(p *Pass) { p.Holder = "A\x00B" },
		"revoked status":    func(p *Pass) { p.Status = Revoked },
	} {
		if _, err := IssuePass(vecPass(mod), vecIssuer); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func TestParsedPassMatchesIssued(t *testing.T) {
	tr := testTrust(t)
	want := vecPass(func(p *Pass) {
		p.QuarantineUntil = vecT0.Add(time.Hour)
		p.Class = Staff
		p.Sites = []string{"a", "north-gate"}
	})
	d := Decide(mustIssue(t, want, vecIssuer), tr, nil, nil, gateIn, at(2*time.Hour))
	if !d.Allow || d.Pass == nil {
		t.Fatalf("denied: %s %s", d.Reason, d.Detail)
	}
	got := d.Pass
	if got.Issuer != want.Issuer || !bytes.Equal(got.ID, want.ID) || !got.IssuedAt.Equal(want.IssuedAt) ||
		!got.Expiry.Equal(want.Expiry) || got.Index != want.Index || !bytes.Equal(got.Household, want.Household) ||
		got.Holder != want.Holder || len(got.Sites) != 2 || !got.QuarantineUntil.Equal(want.QuarantineUntil) ||
		got.Class != Staff || !bytes.Equal(got.KeyID, KeyID(pub(vecIssuer))) {
		t.Errorf("parsed %+v\nissued %+v", got, want)
	}
}

func TestStatusListDelta(t *testing.T) {
	tr := testTrust(t)
	l1, _ := NewStatusList("compound-7", 1, vecT0, 1000)
	l1.Set(7, Red)
	raw1, err := SignStatusList(l1, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	tr1, err := tr.WithStatusList(raw1)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := tr1.Status["compound-7"].Get(7); c != Red {
		t.Fatalf("index 7 = %v", c)
	}
	l2 := l1.Clone(2, vecT0.Add(time.Hour))
	l2.Set(7, Green)
	l2.Set(999, Revoked)
	l2.Set(500, Yellow)
	delta, err := SignStatusDelta(l1, l2, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := tr1.WithStatusDelta("compound-7", delta)
	if err != nil {
		t.Fatal(err)
	}
	got := tr2.Status["compound-7"]
	if got.Version != 2 || got.Digest() != l2.Digest() {
		t.Fatalf("delta result differs from the list it leads to")
	}
	// The same delta again does not apply: its base is gone.
	if _, err := tr2.WithStatusDelta("compound-7", delta); !errors.Is(err, ErrDeltaBase) {
		t.Errorf("delta applied twice: %v", err)
	}
	// An older full list is refused; the same one again is a no-op.
	if _, err := tr2.WithStatusList(raw1); !errors.Is(err, ErrOlder) {
		t.Errorf("older list: %v", err)
	}
	if same, err := tr1.WithStatusList(raw1); err != nil || same != tr1 {
		t.Errorf("same list again: %v", err)
	}
	// A delta whose digest lies is refused.
	l3 := l2.Clone(3, vecT0.Add(2*time.Hour))
	l3.Set(1, Red)
	lie := l3.Clone(3, l3.IssuedAt)
	lie.Set(2, Red) // the digest of a list the changes do not make
	d3, _ := signDeltaWithDigest(t, l2, l3, lie.Digest())
	if _, err := tr2.WithStatusDelta("compound-7", d3); !errors.Is(err, ErrDeltaBase) {
		t.Errorf("lying digest: %v", err)
	}
	// A delta signed by the pass issuer is not trusted.
	bad, _ := SignStatusDelta(l2, l3, vecIssuer)
	if _, err := tr2.WithStatusDelta("compound-7", bad); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("delta from a pass issuer: %v", err)
	}
	// A shrinking list clears the bits past its end.
	small := l2.Clone(4, vecT0.Add(3*time.Hour))
	small.size, small.bits = 998, small.bits[:250]
	small.bits[249] &= 0x0f
	ds, err := SignStatusDelta(l2, small, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	if tr4, err := tr2.WithStatusDelta("compound-7", ds); err != nil || tr4.Status["compound-7"].Len() != 998 {
		t.Errorf("shrinking delta: %v", err)
	}
}

func signDeltaWithDigest(t *testing.T, from, to *StatusList, digest [32]byte) ([]byte, error) {
	t.Helper()
	raw, err := SignStatusDelta(from, to, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := parseEnvelope(raw, ctStatusDelta)
	var w deltaWire
	if err := decMode.Unmarshal(e.payload, &w); err != nil {
		t.Fatal(err)
	}
	w.Digest = digest[:]
	p, _ := encMode.Marshal(w)
	return signEnvelope(vecStatus, ctStatusDelta, p)
}

func TestTrustVersions(t *testing.T) {
	tr := testTrust(t)
	p := DefaultPolicy("north-gate")
	p.Version = 5
	raw5, _ := SignPolicy(p, vecRoot)
	tr5, err := tr.WithPolicy(raw5)
	if err != nil {
		t.Fatal(err)
	}
	p.Version = 4
	raw4, _ := SignPolicy(p, vecRoot)
	if _, err := tr5.WithPolicy(raw4); !errors.Is(err, ErrOlder) {
		t.Errorf("older policy: %v", err)
	}
	p.Version, p.Emergency = 5, true
	other5, _ := SignPolicy(p, vecRoot)
	if _, err := tr5.WithPolicy(other5); !errors.Is(err, ErrVersionConflict) {
		t.Errorf("conflicting policy: %v", err)
	}
	// A policy signed by a pass issuer is not trusted.
	p.Version = 6
	forged, _ := SignPolicy(p, vecIssuer)
	if _, err := tr5.WithPolicy(forged); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("policy from a pass issuer: %v", err)
	}
	// A key set signed by anyone but the root is not trusted.
	ks := &KeySet{Version: 9, Keys: []Key{keyEntry(vecOther, RolePassIssuer, "compound-7")}}
	raw, _ := SignKeySet(ks, vecIssuer)
	if _, err := tr5.WithKeySet(raw); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("key set from an issuer: %v", err)
	}
	// The original trust is untouched by all of this.
	if tr.Policies != nil || tr5.Policies["north-gate"].Version != 5 {
		t.Errorf("trust changed in place")
	}
}

func TestLocalRules(t *testing.T) {
	tr := testTrust(t)
	good := mustIssue(t, vecPass(nil), vecIssuer)
	p := DefaultPolicy("north-gate")
	p.Entry.AntiPassback = PassbackHard
	p.Exit.AntiPassback = PassbackTimed
	p.Exit.PassbackWindow = 10 * time.Minute
	p.Exit.QuotaCount, p.Exit.QuotaWindow = 1, 48*time.Hour
	now := at(time.Hour)
	cases := []struct {
		name   string
		local  fakeLocal
		dir    Direction
		reason Reason
	}{
		{"first entry", fakeLocal{}, Entry, ReasonOK},
		{"entry after entry, hard", fakeLocal{seen: true, dir: Entry, at: now.Wall.Add(-time.Hour)}, Entry, ReasonAntiPassback},
		{"entry after exit", fakeLocal{seen: true, dir: Exit, at: now.Wall.Add(-time.Hour)}, Entry, ReasonOK},
		{"exit after exit, in window", fakeLocal{seen: true, dir: Exit, at: now.Wall.Add(-time.Minute)}, Exit, ReasonAntiPassback},
		{"exit after exit, past window", fakeLocal{seen: true, dir: Exit, at: now.Wall.Add(-time.Hour)}, Exit, ReasonOK},
		{"household exit used", fakeLocal{exits: 1}, Exit, ReasonQuota},
	}
	for _, c := range cases {
		d := Decide(good, tr, p, &c.local, Gate{Site: "north-gate", Direction: c.dir}, now)
		if d.Reason != c.reason || d.Allow != (c.reason == ReasonOK) {
			t.Errorf("%s: %v %s, want %s", c.name, d.Allow, d.Reason, c.reason)
		}
	}
}

type fakeLocal struct {
	seen  bool
	dir   Direction
	at    time.Time
	exits int
}

func (f *fakeLocal) LastSeen(string, []byte) (Direction, time.Time, bool) { return f.dir, f.at, f.seen }
func (f *fakeLocal) HouseholdExits(string, []byte, time.Time) int         { return f.exits }

func TestKeyFiles(t *testing.T) {
	pk, sk, _ := ed25519.GenerateKey(nil)
	gotSK, err := ParsePrivateKey(MarshalPrivateKey(sk))
	if err != nil || !gotSK.Equal(sk) {
		t.Fatalf("private key round trip: %v", err)
	}
	gotPK, err := ParsePublicKey(MarshalPublicKey(pk))
	if err != nil || !gotPK.Equal(pk) {
		t.Fatalf("public key round trip: %v", err)
	}
	if _, err := ParsePublicKey(MarshalPrivateKey(sk)); err == nil {
		t.Error("a private key file parsed as a public key")
	}
	if _, err := ParsePrivateKey([]byte("checkpoint-ed25519-private-key:AAAA\n")); err == nil {
		t.Error("a short key parsed")
	}
}

// The trust data is as current as its oldest status list was when signed;
// with no list, as its key set.
func TestTrustSignedAt(t *testing.T) {
	status8 := seedKey("status-8")
	ks := &KeySet{Version: 1, IssuedAt: vecT0.Unix(), Keys: []Key{
		keyEntry(vecIssuer, RolePassIssuer, "compound-7"),
		keyEntry(vecStatus, RoleStatusSigner, "compound-7"),
		keyEntry(status8, RoleStatusSigner, "compound-8"),
	}}
	tr := trustWith(t, ks)
	later := vecT0.Add(24 * time.Hour)
	if got := NewTrust(pub(vecRoot)).SignedAt(later); !got.IsZero() {
		t.Errorf("no documents: %v", got)
	}
	if got := tr.SignedAt(later); !got.Equal(vecT0) {
		t.Errorf("key set only: %v, want %v", got, vecT0)
	}
	if got := tr.SignedAt(vecT0.Add(-time.Hour)); !got.Equal(vecT0.Add(-time.Hour)) {
		t.Errorf("key set dated ahead of now: %v, want now", got)
	}
	for _, l := range []struct {
		issuer string
		at     time.Duration
		key    ed25519.PrivateKey
	}{{"compound-7", 3 * time.Hour, vecStatus}, {"compound-8", 2 * time.Hour, status8}} {
		sl, _ := NewStatusList(l.issuer, 1, vecT0.Add(l.at), 10)
		raw, err := SignStatusList(sl, l.key)
		if err != nil {
			t.Fatal(err)
		}
		if tr, err = tr.WithStatusList(raw); err != nil {
			t.Fatal(err)
		}
	}
	if got := tr.SignedAt(later); !got.Equal(vecT0.Add(2 * time.Hour)) {
		t.Errorf("two lists: %v, want the older list's time %v", got, vecT0.Add(2*time.Hour))
	}
	if got := tr.SignedAt(vecT0.Add(90 * time.Minute)); !got.Equal(vecT0.Add(90 * time.Minute)) {
		t.Errorf("a list dated ahead of now: %v, want now", got)
	}
	// An issuer with a status signer but no list held: nothing newer than
	// the key set is known of its passes.
	ks.Keys = append(ks.Keys, keyEntry(seedKey("status-9"), RoleStatusSigner, "compound-9"))
	ks2 := trustWith(t, ks)
	ks2.Status = tr.Status
	if got := ks2.SignedAt(later); !got.Equal(vecT0) {
		t.Errorf("an issuer without its list: %v, want the key set's time %v", got, vecT0)
	}
	// The same for an issuer with a pass-issuer key only (its lists are
	// the root's to sign).
	ks.Keys = append(ks.Keys[:3], keyEntry(seedKey("issuer-9"), RolePassIssuer, "compound-9"))
	ks3 := trustWith(t, ks)
	ks3.Status = tr.Status
	if got := ks3.SignedAt(later); !got.Equal(vecT0) {
		t.Errorf("a pass issuer without a list: %v, want the key set's time %v", got, vecT0)
	}
	// A list the root signed, with no dated key set: the list's time.
	sl, _ := NewStatusList("compound-7", 1, vecT0.Add(time.Hour), 10)
	raw, err := SignStatusList(sl, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	rootOnly, err := NewTrust(pub(vecRoot)).WithStatusList(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := rootOnly.SignedAt(later); !got.Equal(vecT0.Add(time.Hour)) {
		t.Errorf("a root-signed list, no key set: %v, want the list's time", got)
	}
	// An undated key set naming an issuer whose list is not held: nothing
	// dated is known of that issuer's passes.
	ks.IssuedAt = 0
	undated := trustWith(t, ks)
	undated.Status = tr.Status
	if got := undated.SignedAt(later); !got.IsZero() {
		t.Errorf("an undated key set, an issuer without a list: %v, want zero", got)
	}
}
