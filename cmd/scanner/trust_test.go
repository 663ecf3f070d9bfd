package main

import (
	"crypto/ed25519"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// A signed key set in the trust cache replaces the config's issuer keys
// whatever its version, 0 included: the config's keys are no signed
// document with a version of their own to hold it back. The key set
// retires the config's key and trusts another.
func TestCachedKeySetReplacesConfigKeys(t *testing.T) {
	rootPub, root, _ := ed25519.GenerateKey(nil)
	oldPub, oldKey, _ := ed25519.GenerateKey(nil)
	newPub, newKey, _ := ed25519.GenerateKey(nil)
	cfg := &Config{Site: "north-gate", root: rootPub, issuers: []issuerKey{{issuer: "compound-7", key: oldPub}}}
	ks, err := scanner.SignKeySet(&scanner.KeySet{Version: 0, IssuedAt: time.Now().Unix(), Keys: []scanner.Key{
		{ID: scanner.KeyID(newPub), Public: newPub, Role: scanner.RolePassIssuer, Issuer: "compound-7"},
	}}, root)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := store.OpenTrust(filepath.Join(t.TempDir(), trustFile), store.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.PutDoc(store.KindKeySet, "keyset", ks); err != nil {
		t.Fatal(err)
	}
	trust := applyCached(NewMain().loadTrust(cfg), tc, slog.New(slog.NewTextHandler(io.Discard, nil)))

	now := time.Now()
	issue := func(key ed25519.PrivateKey) string {
		text, err := scanner.IssuePass(&scanner.Pass{Issuer: "compound-7", ID: []byte("0123456789abcdef"),
			IssuedAt: now.Add(-time.Minute), NotBefore: now.Add(-time.Minute), Expiry: now.Add(time.Hour),
			Household: []byte("h-1"), Holder: "A.B. 1-101", Sites: []string{"north-gate"}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	gate := scanner.Gate{Site: "north-gate", Direction: scanner.Entry}
	at := scanner.Moment{Wall: now, Trusted: true}
	if d := scanner.Decide(issue(newKey), trust, nil, nil, gate, at); !d.Allow {
		t.Errorf("a pass of the cached key set's key: %s %s", d.Reason, d.Detail)
	}
	if d := scanner.Decide(issue(oldKey), trust, nil, nil, gate, at); d.Allow || d.Reason != scanner.ReasonUnknownKey {
		t.Errorf("a pass of the config's key, which the cached key set retired: allow %v, %s", d.Allow, d.Reason)
	}
}
