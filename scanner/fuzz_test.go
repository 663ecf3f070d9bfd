package scanner

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecide feeds any text to the decision function: it must never panic,
// never allow a text that is not a pass signed by the trusted issuer, and
// a text it allows must re-encode to itself (Base45 and CBOR have one form).
func FuzzDecide(f *testing.F) {
	tr := testTrust(f)
	// issued holds the passes we signed; no other text may be allowed.
	issued := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		var v vector
		if json.Unmarshal(b, &v) == nil {
			f.Add(v.Pass)
			if Decide(v.Pass, tr, nil, nil, gateIn, at(time.Hour)).Allow {
				issued[v.Pass] = true
			}
		}
	}
	good := mustIssue(f, vecPass(nil), vecIssuer)
	issued[good] = true
	f.Add(good)
	// A signature cache warmed with every issued pass changes no decision.
	sigs := NewSigCache(64)
	cached := tr.WithSigCache(sigs)
	for text := range issued {
		Decide(text, cached, nil, nil, gateIn, at(time.Hour))
	}
	f.Fuzz(func(t *testing.T, text string) {
		d := Decide(text, tr, nil, nil, gateIn, at(time.Hour))
		if d.Allow && !issued[text] {
			// Ed25519 signatures are not malleable and our CBOR is
			// canonical with no unknown fields, so the only texts that
			// verify are the ones we issued.
			t.Fatalf("allowed a text we did not issue: %q", text)
		}
		if c := Decide(text, cached, nil, nil, gateIn, at(time.Hour)); c.Allow != d.Allow || c.Reason != d.Reason {
			t.Fatalf("through the cache: allow %v %s; without: allow %v %s", c.Allow, c.Reason, d.Allow, d.Reason)
		}
	})
}

func FuzzKeySet(f *testing.F) {
	ks := &KeySet{Version: 1, Keys: []Key{keyEntry(vecIssuer, RolePassIssuer, "compound-7")}}
	raw, _ := SignKeySet(ks, vecRoot)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseKeySet(b, pub(vecRoot))
		if err == nil && got.check() != nil {
			t.Fatal("accepted a key set that fails its own check")
		}
		// Also as unsigned payload, to reach the claim checks.
		var v KeySet
		if decMode.Unmarshal(b, &v) == nil {
			_ = v.check()
		}
	})
}

func FuzzStatusList(f *testing.F) {
	l, _ := NewStatusList("compound-7", 1, vecT0, 100)
	l.Set(3, Red)
	raw, _ := SignStatusList(l, vecRoot)
	f.Add(raw)
	l2 := l.Clone(2, vecT0)
	l2.Set(4, Yellow)
	delta, _ := SignStatusDelta(l, l2, vecRoot)
	f.Add(delta)
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := ParseStatusList(b, pub(vecRoot), nil); err == nil {
			for i := range got.Len() {
				if c, ok := got.Get(i); !ok || c > Revoked {
					t.Fatal("bad entry")
				}
			}
		}
		if got, err := l.ApplyDelta(b, pub(vecRoot), nil); err == nil && got.Version <= l.Version {
			t.Fatal("delta went backwards")
		}
		// The unsigned payload paths: inflate with bounds.
		_, _ = inflate(b, 64)
		_, _ = inflateAll(b, 64)
	})
}

func FuzzPolicy(f *testing.F) {
	p := DefaultPolicy("north-gate")
	p.Version = 1
	raw, _ := SignPolicy(p, vecRoot)
	f.Add(raw)
	payload, _ := encMode.Marshal(p)
	f.Add(payload)
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := ParsePolicy(b, pub(vecRoot), nil); err == nil && got.Check() != nil {
			t.Fatal("accepted a policy that fails its own check")
		}
		var v Policy
		if decMode.Unmarshal(b, &v) == nil {
			_ = v.Check()
		}
	})
}

// FuzzPassClaims reaches the claim parser directly, past the signature.
func FuzzPassClaims(f *testing.F) {
	e, _ := parsePassEnvelope(mustIssue(f, vecPass(nil), vecIssuer))
	f.Add(e.payload)
	f.Add([]byte(hex.EncodeToString(e.payload)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePassClaims(b, nil)
		if err == nil && (len(p.Sites) == 0 || len(p.ID) < MinPassIDLen || p.Status > Red) {
			t.Fatal("accepted claims that break the format's limits")
		}
	})
}
