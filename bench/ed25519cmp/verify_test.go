package ed25519cmp

import (
	std "crypto/ed25519"
	"crypto/sha256"
	"testing"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// A message the size of a pass's signed bytes, and one key pair.
var (
	msg  = make([]byte, 250)
	seed = sha256.Sum256([]byte("ed25519cmp"))
	priv = std.NewKeyFromSeed(seed[:])
	pub  = priv.Public().(std.PublicKey)
	sig  = std.Sign(priv, msg)
	// The standard library's own rules, so both accept the same signatures.
	stdRules = &voi.Options{Verify: voi.VerifyOptionsStdLib}
)

func BenchmarkVerifyStdlib(b *testing.B) {
	for b.Loop() {
		if !std.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyVoi(b *testing.B) {
	for b.Loop() {
		if !voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdRules) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyVoiExpanded(b *testing.B) {
	x, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !voi.VerifyExpandedWithOptions(x, msg, sig, stdRules) {
			b.Fatal("does not verify")
		}
	}
}

// The three agree on a good signature and on one with a bit flipped.
func TestAgree(t *testing.T) {
	x, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	for _, s := range [][]byte{sig, bad} {
		a := std.Verify(pub, msg, s)
		v := voi.VerifyWithOptions(voi.PublicKey(pub), msg, s, stdRules)
		e := voi.VerifyExpandedWithOptions(x, msg, s, stdRules)
		if a != v || a != e {
			t.Errorf("stdlib %v, voi %v, voi expanded %v", a, v, e)
		}
	}
}
