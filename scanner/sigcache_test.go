package scanner

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSigCacheSkipsOnlyTheArithmetic(t *testing.T) {
	c := NewSigCache(16)
	tr := testTrust(t).WithSigCache(c)
	good := mustIssue(t, vecPass(nil), vecIssuer)
	for i := range 3 {
		if d := Decide(good, tr, nil, nil, gateIn, at(time.Hour)); !d.Allow {
			t.Fatalf("read %d denied: %s %s", i, d.Reason, d.Detail)
		}
	}
	if c.Hits() != 2 || c.Len() != 1 {
		t.Fatalf("after three reads of one pass: %d hits, %d held; want 2 and 1", c.Hits(), c.Len())
	}

	// A forged signature over the same payload is verified, denied and
	// not remembered, however often it is shown.
	forged := reencode(t, good, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	for range 3 {
		if d := Decide(forged, tr, nil, nil, gateIn, at(time.Hour)); d.Allow || d.Reason != ReasonBadSignature {
			t.Fatalf("forged pass: allow %v, %s", d.Allow, d.Reason)
		}
	}
	if c.Hits() != 2 || c.Len() != 1 {
		t.Fatalf("forged reads changed the cache: %d hits, %d held", c.Hits(), c.Len())
	}

	// The rest of the decision still runs on every read: past its expiry
	// the cached pass is denied.
	if d := Decide(good, tr, nil, nil, gateIn, at(48*time.Hour)); d.Allow || d.Reason != ReasonExpired {
		t.Fatalf("expired cached pass: allow %v, %s", d.Allow, d.Reason)
	}

	// A key set without the issuer's key (carried over to the new trust
	// with the cache) denies the cached pass.
	ks := &KeySet{Version: 2, Keys: []Key{keyEntry(vecStatus, RoleStatusSigner, "compound-7")}}
	raw, err := SignKeySet(ks, vecRoot)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := tr.WithKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d := Decide(good, rotated, nil, nil, gateIn, at(time.Hour)); d.Allow || d.Reason != ReasonUnknownKey {
		t.Fatalf("pass of a removed key: allow %v, %s", d.Allow, d.Reason)
	}
}

func TestSigCacheForgetsTheOldest(t *testing.T) {
	c := NewSigCache(2)
	tr := testTrust(t).WithSigCache(c)
	var passes []string
	for i := range 3 {
		passes = append(passes, mustIssue(t, vecPass(func(p *Pass) { p.ID = []byte(fmt.Sprintf("pass-%d-abcdefgh", i)) }), vecIssuer))
	}
	for _, p := range passes {
		if d := Decide(p, tr, nil, nil, gateIn, at(time.Hour)); !d.Allow {
			t.Fatalf("denied: %s", d.Reason)
		}
	}
	if c.Len() != 2 || c.Hits() != 0 {
		t.Fatalf("held %d, hits %d; want 2 and 0", c.Len(), c.Hits())
	}
	// The first was forgotten: reading it is a miss; the last is a hit.
	Decide(passes[0], tr, nil, nil, gateIn, at(time.Hour))
	if c.Hits() != 0 {
		t.Fatalf("the oldest entry was not forgotten")
	}
	Decide(passes[0], tr, nil, nil, gateIn, at(time.Hour))
	if c.Hits() != 1 || c.Len() != 2 {
		t.Fatalf("held %d, hits %d; want 2 and 1", c.Len(), c.Hits())
	}
}

// Salted per cache: two caches key one signature differently.
func TestSigCacheSalted(t *testing.T) {
	a, b := NewSigCache(1), NewSigCache(1)
	if a.salt == b.salt {
		t.Fatal("two caches share a salt")
	}
}

func TestSigCacheConcurrent(t *testing.T) {
	c := NewSigCache(8)
	tr := testTrust(t).WithSigCache(c)
	var passes []string
	for i := range 12 {
		passes = append(passes, mustIssue(t, vecPass(func(p *Pass) { p.ID = []byte(fmt.Sprintf("pass-%02d-abcdefg", i)) }), vecIssuer))
	}
	forged := reencode(t, passes[0], func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 60 {
				p := passes[(i*(w+1))%len(passes)]
				if d := Decide(p, tr, nil, nil, gateIn, at(time.Hour)); !d.Allow {
					t.Errorf("denied: %s", d.Reason)
				}
				if d := Decide(forged, tr, nil, nil, gateIn, at(time.Hour)); d.Allow {
					t.Error("forged pass allowed")
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 8 {
		t.Fatalf("cache holds %d, more than its size", n)
	}
}
