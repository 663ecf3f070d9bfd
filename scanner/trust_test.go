package scanner

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// A key set that no longer authorises a signer withdraws what it signed:
// a status list or policy it signed is trusted only as long as the key set
// held says it may sign it, as a restarted gate checks the cached
// documents under the key set. Otherwise a status signer or policy signer
// withdrawn for being compromised keeps its documents in force, and a
// version it chose (the largest there is) holds back every document that
// would replace them.
func TestWithdrawnSignerWithdrawsItsDocuments(t *testing.T) {
	policySigner := seedKey("policy")
	v1 := &KeySet{Version: 1, IssuedAt: vecT0.Unix(), Keys: []Key{
		keyEntry(vecIssuer, RolePassIssuer, "compound-7"),
		keyEntry(vecStatus, RoleStatusSigner, "compound-7"),
		{ID: KeyID(pub(policySigner)), Public: pub(policySigner), Role: RolePolicySigner},
	}}
	tr := trustWith(t, v1)

	// The compromised status signer sets every pass green at the last
	// version; the compromised policy signer opens every exit.
	stolen, _ := NewStatusList("compound-7", ^uint64(0), vecT0.Add(time.Hour), 100)
	rawStolen, err := SignStatusList(stolen, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	open := DefaultPolicy("north-gate")
	open.Version, open.IssuedAt, open.Emergency = ^uint64(0), vecT0.Add(time.Hour).Unix(), true
	rawOpen, err := SignPolicy(open, policySigner)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithStatusList(rawStolen); err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithPolicy(rawOpen); err != nil {
		t.Fatal(err)
	}

	// The operator withdraws both keys.
	v2 := &KeySet{Version: 2, IssuedAt: vecT0.Add(2 * time.Hour).Unix(), Keys: v1.Keys[:1]}
	rawV2, err := SignKeySet(v2, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithKeySet(rawV2); err != nil {
		t.Fatal(err)
	}
	if tr.Status["compound-7"] != nil || tr.Policies["north-gate"] != nil {
		t.Errorf("after the key set withdrew their signers: status list held %v, policy held %v; want neither",
			tr.Status["compound-7"] != nil, tr.Policies["north-gate"] != nil)
	}

	// The root's list, which revokes the pass, and its policy now apply.
	revoking, _ := NewStatusList("compound-7", 3, vecT0.Add(3*time.Hour), 100)
	revoking.Set(5, Revoked)
	rawRevoking, err := SignStatusList(revoking, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithStatusList(rawRevoking); err != nil {
		t.Fatalf("the root's list after the signer was withdrawn: %v", err)
	}
	closed := DefaultPolicy("north-gate")
	closed.Version, closed.IssuedAt = 3, vecT0.Add(3*time.Hour).Unix()
	rawClosed, err := SignPolicy(closed, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithPolicy(rawClosed); err != nil {
		t.Fatalf("the root's policy after the signer was withdrawn: %v", err)
	}
	pass := mustIssue(t, vecPass(nil), vecIssuer)
	d := Decide(pass, tr, tr.Policies["north-gate"], nil, Gate{Site: "north-gate", Direction: Exit}, at(4*time.Hour))
	if d.Allow || d.Reason != ReasonRevoked {
		t.Errorf("a revoked pass at an exit: allow %v, %s; want revoked", d.Allow, d.Reason)
	}

	// A key set that keeps a signer keeps its documents, and one that
	// changes what it may sign (another issuer) withdraws them.
	tr = trustWith(t, v1)
	if tr, err = tr.WithStatusList(rawStolen); err != nil {
		t.Fatal(err)
	}
	kept := &KeySet{Version: 2, Keys: v1.Keys}
	raw, _ := SignKeySet(kept, vecRoot)
	if next, err := tr.WithKeySet(raw); err != nil || next.Status["compound-7"] == nil {
		t.Errorf("a key set keeping the signer: %v, list held %v", err, err == nil && next.Status["compound-7"] != nil)
	}
	moved := &KeySet{Version: 2, Keys: []Key{v1.Keys[0], keyEntry(vecStatus, RoleStatusSigner, "compound-8")}}
	raw, _ = SignKeySet(moved, vecRoot)
	if next, err := tr.WithKeySet(raw); err != nil || next.Status["compound-7"] != nil {
		t.Errorf("a key set moving the signer to another issuer: %v, list held %v", err, err == nil && next.Status["compound-7"] != nil)
	}

	// A list applied by a delta the withdrawn signer signed goes too.
	base, _ := NewStatusList("compound-7", 1, vecT0, 100)
	rawBase, _ := SignStatusList(base, vecRoot)
	tr = trustWith(t, v1)
	if tr, err = tr.WithStatusList(rawBase); err != nil {
		t.Fatal(err)
	}
	next := base.Clone(^uint64(0), vecT0.Add(time.Hour))
	delta, _ := SignStatusDelta(base, next, vecStatus)
	if tr, err = tr.WithStatusDelta("compound-7", delta); err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithKeySet(rawV2); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.WithStatusList(rawRevoking); err != nil {
		t.Errorf("the root's list after the delta's signer was withdrawn: %v", err)
	}
}

// Trust documents are in deterministic CBOR, as passes are
// (docs/trust.md): one that decodes but is not in that form is refused.
func TestTrustDocumentsDeterministic(t *testing.T) {
	tr := testTrust(t)
	// longForm re-signs raw with its payload's top map header in a
	// longer form than needed: the same document, another encoding.
	longForm := func(raw []byte, ct string, key ed25519.PrivateKey) []byte {
		t.Helper()
		e, err := parseEnvelope(raw, ct)
		if err != nil {
			t.Fatal(err)
		}
		p := e.payload
		if p[0] < 0xa0 || p[0] > 0xb7 {
			t.Fatalf("payload starts % x, not a short map", p[:1])
		}
		long := append([]byte{0xb8, p[0] - 0xa0}, p[1:]...)
		b, err := signEnvelope(key, ct, long)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wantFormatErr := func(what string, err error) {
		t.Helper()
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s in a longer encoding: %v, want a format error", what, err)
		}
	}

	ks := &KeySet{Version: 2, IssuedAt: vecT0.Unix(), Keys: tr.Keys.Keys}
	rawKS, _ := SignKeySet(ks, vecRoot)
	if _, err := tr.WithKeySet(rawKS); err != nil {
		t.Fatal(err)
	}
	_, err := tr.WithKeySet(longForm(rawKS, ctKeySet, vecRoot))
	wantFormatErr("a key set", err)

	l1, _ := NewStatusList("compound-7", 1, vecT0, 100)
	rawL1, _ := SignStatusList(l1, vecStatus)
	_, err = tr.WithStatusList(longForm(rawL1, ctStatus, vecStatus))
	wantFormatErr("a status list", err)
	tr1, err := tr.WithStatusList(rawL1)
	if err != nil {
		t.Fatal(err)
	}
	l2 := l1.Clone(2, vecT0.Add(time.Hour))
	l2.Set(5, Revoked)
	delta, _ := SignStatusDelta(l1, l2, vecStatus)
	if _, err := tr1.WithStatusDelta("compound-7", delta); err != nil {
		t.Fatal(err)
	}
	_, err = tr1.WithStatusDelta("compound-7", longForm(delta, ctStatusDelta, vecStatus))
	wantFormatErr("a status delta", err)

	p := DefaultPolicy("north-gate")
	p.Version = 1
	rawP, _ := SignPolicy(p, vecRoot)
	if _, err := tr.WithPolicy(rawP); err != nil {
		t.Fatal(err)
	}
	_, err = tr.WithPolicy(longForm(rawP, ctPolicy, vecRoot))
	wantFormatErr("a policy", err)
}

// A policy's classes travel as an array of class numbers (docs/trust.md):
// SignPolicy writes one, and a policy written so is read.
func TestPolicyClassesArray(t *testing.T) {
	p := DefaultPolicy("north-gate")
	p.Version = 1
	p.Exit.Classes = []Class{Resident, Staff}
	raw, err := SignPolicy(p, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := parseEnvelope(raw, ctPolicy)
	var top map[int]cbor.RawMessage
	if err := cbor.Unmarshal(e.payload, &top); err != nil {
		t.Fatal(err)
	}
	var exit map[int]cbor.RawMessage
	if err := cbor.Unmarshal(top[5], &exit); err != nil {
		t.Fatal(err)
	}
	if c := exit[4]; len(c) == 0 || c[0]>>5 != 4 {
		t.Errorf("exit classes encoded as % x, want a CBOR array", c)
	}
	got, err := ParsePolicy(raw, pub(vecRoot), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Exit.Classes) != 2 || got.Exit.Classes[1] != Staff {
		t.Errorf("classes read back as %v", got.Exit.Classes)
	}
}

// A status signer whose window has ended (retired in favour of a successor,
// but kept in the key set) must not be able to replace the list the gate
// holds by signing a new one dated back inside its window: the gate would
// drop the successor's revocations and refuse every later list.
func TestRetiredStatusSignerCannotReplaceNewerList(t *testing.T) {
	oldSigner, newSigner := vecStatus, seedKey("status successor")
	retired := keyEntry(oldSigner, RoleStatusSigner, "compound-7")
	retired.NotAfter = vecT0.Add(time.Hour).Unix()
	tr := trustWith(t, &KeySet{Version: 1, IssuedAt: vecT0.Unix(), Keys: []Key{
		keyEntry(vecIssuer, RolePassIssuer, "compound-7"),
		retired,
		keyEntry(newSigner, RoleStatusSigner, "compound-7"),
	}})

	// The successor's list, issued two days on, revokes index 5.
	held, _ := NewStatusList("compound-7", 10, vecT0.Add(48*time.Hour), 100)
	held.Set(5, Revoked)
	raw, err := SignStatusList(held, newSigner)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithStatusList(raw); err != nil {
		t.Fatal(err)
	}
	pass := mustIssue(t, vecPass(func(p *Pass) {
		p.IssuedAt, p.NotBefore, p.Expiry = vecT0.Add(40*time.Hour), vecT0.Add(40*time.Hour), vecT0.Add(64*time.Hour)
	}), vecIssuer)
	now := at(50 * time.Hour)
	if d := Decide(pass, tr, nil, nil, gateIn, now); d.Allow || d.Reason != ReasonRevoked {
		t.Fatalf("before: %v %s, want revoked", d.Allow, d.Reason)
	}

	// The retired key, leaked, signs an all-green list at the last version,
	// dated inside its window.
	forged, _ := NewStatusList("compound-7", ^uint64(0), vecT0, 100)
	rawForged, err := SignStatusList(forged, oldSigner)
	if err != nil {
		t.Fatal(err)
	}
	if tr2, err := tr.WithStatusList(rawForged); err == nil {
		d := Decide(pass, tr2, nil, nil, gateIn, now)
		t.Errorf("a retired status signer's back-dated list replaced the newer one held (revoked pass now: allow %v, %s)", d.Allow, d.Reason)
		next, _ := NewStatusList("compound-7", 11, vecT0.Add(72*time.Hour), 100)
		next.Set(5, Revoked)
		rawNext, _ := SignStatusList(next, newSigner)
		if _, err := tr2.WithStatusList(rawNext); errors.Is(err, ErrOlder) {
			t.Errorf("and the successor's next list is refused: %v", err)
		}
	}
}

// The same for a policy signer: once retired, it must not replace the
// policy held with one dated back inside its window.
func TestRetiredPolicySignerCannotReplaceNewerPolicy(t *testing.T) {
	oldSigner := seedKey("policy")
	retired := Key{ID: KeyID(pub(oldSigner)), Public: pub(oldSigner), Role: RolePolicySigner, NotAfter: vecT0.Add(time.Hour).Unix()}
	tr := trustWith(t, &KeySet{Version: 1, IssuedAt: vecT0.Unix(), Keys: []Key{
		keyEntry(vecIssuer, RolePassIssuer, "compound-7"), retired,
	}})
	closed := DefaultPolicy("north-gate")
	closed.Version, closed.IssuedAt = 5, vecT0.Add(48*time.Hour).Unix()
	raw, err := SignPolicy(closed, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithPolicy(raw); err != nil {
		t.Fatal(err)
	}
	open := DefaultPolicy("north-gate")
	open.Version, open.IssuedAt, open.Emergency = ^uint64(0), vecT0.Unix(), true
	open.Exit = Rules{Green: Allow, Yellow: Allow, Red: Allow}
	rawOpen, err := SignPolicy(open, oldSigner)
	if err != nil {
		t.Fatal(err)
	}
	if tr2, err := tr.WithPolicy(rawOpen); err == nil && tr2.Policies["north-gate"].Emergency {
		t.Errorf("a retired policy signer's back-dated policy replaced the newer one held (emergency now on)")
	}
}

// The same version with the same content is a no-op, with other content
// ErrVersionConflict (docs/trust.md): for a status list, another issue
// time is other content too (its digest leaves the issue time out).
func TestStatusSameVersionOtherIssueTime(t *testing.T) {
	tr := testTrust(t)
	l, _ := NewStatusList("compound-7", 4, vecT0, 100)
	raw, err := SignStatusList(l, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.WithStatusList(raw); err != nil {
		t.Fatal(err)
	}
	later := l.Clone(4, vecT0.Add(6*time.Hour))
	rawLater, err := SignStatusList(later, vecStatus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.WithStatusList(rawLater); !errors.Is(err, ErrVersionConflict) {
		t.Errorf("same version, other issue time: err %v, want ErrVersionConflict", err)
	}
}
