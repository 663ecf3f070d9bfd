package scanner

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"time"
)

// Errors for trust documents. Parse errors other than these are
// *FormatError.
var (
	// ErrNotTrusted: the document's signature does not verify under a
	// key the gate trusts for that kind of document.
	ErrNotTrusted = errors.New("not signed by a trusted key")
	// ErrOlder: the document is older than the one held; versions never
	// go backwards.
	ErrOlder = errors.New("older than the version held")
	// ErrVersionConflict: a document has the version of the one held but
	// other content.
	ErrVersionConflict = errors.New("same version as the one held, different content")
)

// checkSigner verifies e under the key signerKey finds for its kid.
func checkSigner(e *envelope, root ed25519.PublicKey, keys *KeySet, role Role, issuer, site string, issuedAt int64) error {
	pub := signerKey(root, keys, e.header.KID, role, issuer, site, issuedAt)
	if pub == nil || !e.verify(pub) {
		return ErrNotTrusted
	}
	return nil
}

// signerKey returns the key with ID kid that may sign a document of the
// given role issued at issuedAt: root, or a key in keys of that role that
// is valid at issuedAt, signs for issuer (when issuer is set) and serves
// site (when site is set). It returns nil when there is none.
func signerKey(root ed25519.PublicKey, keys *KeySet, kid []byte, role Role, issuer, site string, issuedAt int64) ed25519.PublicKey {
	if len(root) == ed25519.PublicKeySize && bytes.Equal(kid, KeyID(root)) {
		return root
	}
	k := keys.lookup(kid, role)
	if k == nil || (issuer != "" && k.Issuer != issuer) || (site != "" && !k.servesSite(site)) ||
		!k.validAt(time.Unix(issuedAt, 0)) {
		return nil
	}
	return k.Public
}

// Trust is everything a gate trusts: its root key and the documents signed
// under it. A Trust is never changed once built; the With methods return a
// new one, so a gate can swap trust under readers with an atomic pointer.
type Trust struct {
	Root     ed25519.PublicKey
	Keys     *KeySet
	Status   map[string]*StatusList // by issuer
	Policies map[string]*Policy     // by site

	// FreshAt is when the hub last confirmed this trust data current,
	// by its signed time. The policy's MaxTrustAge is measured from it.
	FreshAt time.Time

	raw  map[string][]byte // the signed documents, by kind/name, to compare versions
	sigs *SigCache         // pass signatures already verified; nil: none
}

// NewTrust returns the trust of a gate that knows only its root key.
func NewTrust(root ed25519.PublicKey) *Trust {
	return &Trust{Root: root}
}

func (t *Trust) clone() *Trust {
	c := *t
	c.Status = maps.Clone(t.Status)
	c.Policies = maps.Clone(t.Policies)
	c.raw = maps.Clone(t.raw)
	if c.raw == nil {
		c.raw = map[string][]byte{}
	}
	return &c
}

// sameVersion decides what to do with a document of the version held:
// identical is a no-op, anything else a conflict.
func (t *Trust) sameVersion(name string, raw []byte) error {
	if bytes.Equal(t.raw[name], raw) {
		return nil
	}
	return ErrVersionConflict
}

// WithKeySet returns t with the key set raw, which the root key must sign.
// It returns t itself when raw is the key set already held. Keys held that
// no signed key set brought (a config's) have no version: any signed key
// set replaces them.
func (t *Trust) WithKeySet(raw []byte) (*Trust, error) {
	ks, err := ParseKeySet(raw, t.Root)
	if err != nil {
		return nil, err
	}
	if t.Keys != nil && t.raw["keyset"] != nil {
		switch {
		case ks.Version < t.Keys.Version:
			return nil, fmt.Errorf("key set %d: %w %d", ks.Version, ErrOlder, t.Keys.Version)
		case ks.Version == t.Keys.Version:
			return t, t.sameVersion("keyset", raw)
		}
	}
	c := t.clone()
	c.Keys = ks
	c.raw["keyset"] = bytes.Clone(raw)
	// A status list or policy is trusted as long as the key set says its
	// signer may sign it, as when a restarted gate checks the cached
	// documents: a signer withdrawn (for being compromised, say) takes
	// what it signed with it, and the versions it chose hold back no
	// document that replaces them.
	for issuer, l := range c.Status {
		if signerKey(c.Root, ks, l.signer, RoleStatusSigner, l.Issuer, "", l.IssuedAt.Unix()) == nil {
			delete(c.Status, issuer)
			delete(c.raw, "status/"+issuer)
		}
	}
	for site, p := range c.Policies {
		if signerKey(c.Root, ks, p.signer, RolePolicySigner, "", p.Site, p.IssuedAt) == nil {
			delete(c.Policies, site)
			delete(c.raw, "policy/"+site)
		}
	}
	return c, nil
}

// WithStatusList returns t with the full status list raw.
func (t *Trust) WithStatusList(raw []byte) (*Trust, error) {
	l, err := ParseStatusList(raw, t.Root, t.Keys)
	if err != nil {
		return nil, err
	}
	return t.withStatus(l, raw)
}

// WithStatusDelta returns t with the status delta raw applied to the list
// held for its issuer. ErrDeltaBase means: fetch the full list.
func (t *Trust) WithStatusDelta(issuer string, raw []byte) (*Trust, error) {
	held := t.Status[issuer]
	if held == nil {
		return nil, fmt.Errorf("status delta for %s: no list held: %w", issuer, ErrDeltaBase)
	}
	l, err := held.ApplyDelta(raw, t.Root, t.Keys)
	if err != nil {
		return nil, err
	}
	return t.withStatus(l, nil)
}

func (t *Trust) withStatus(l *StatusList, raw []byte) (*Trust, error) {
	if held := t.Status[l.Issuer]; held != nil {
		switch {
		case l.Version < held.Version:
			return nil, fmt.Errorf("status list %s %d: %w %d", l.Issuer, l.Version, ErrOlder, held.Version)
		case l.Version == held.Version:
			if l.Digest() == held.Digest() && l.IssuedAt.Equal(held.IssuedAt) {
				return t, nil
			}
			return nil, fmt.Errorf("status list %s %d: %w", l.Issuer, l.Version, ErrVersionConflict)
		case t.retired(l.signer, RoleStatusSigner, held.IssuedAt.Unix()):
			// A signer whose window ended before the list held was
			// issued replaces it with nothing, however it dates its
			// own (as a pass-issuer key signs no pass that outlives it).
			return nil, fmt.Errorf("status list %s %d: %w", l.Issuer, l.Version, ErrNotTrusted)
		}
	}
	c := t.clone()
	if c.Status == nil {
		c.Status = map[string]*StatusList{}
	}
	c.Status[l.Issuer] = l
	if raw != nil {
		c.raw["status/"+l.Issuer] = bytes.Clone(raw)
	} else {
		delete(c.raw, "status/"+l.Issuer)
	}
	return c, nil
}

// retired reports whether kid is a key of the given role whose window
// ended before heldIssuedAt, the issue time of the document it would
// replace. The root key never retires.
func (t *Trust) retired(kid []byte, role Role, heldIssuedAt int64) bool {
	if len(t.Root) == ed25519.PublicKeySize && bytes.Equal(kid, KeyID(t.Root)) {
		return false
	}
	k := t.Keys.lookup(kid, role)
	return k != nil && k.NotAfter != 0 && heldIssuedAt > k.NotAfter
}

// WithPolicy returns t with the policy raw for its site.
func (t *Trust) WithPolicy(raw []byte) (*Trust, error) {
	p, err := ParsePolicy(raw, t.Root, t.Keys)
	if err != nil {
		return nil, err
	}
	if held := t.Policies[p.Site]; held != nil {
		switch {
		case p.Version < held.Version:
			return nil, fmt.Errorf("policy %s %d: %w %d", p.Site, p.Version, ErrOlder, held.Version)
		case p.Version == held.Version:
			return t, t.sameVersion("policy/"+p.Site, raw)
		case t.retired(p.signer, RolePolicySigner, held.IssuedAt):
			// As for status lists.
			return nil, fmt.Errorf("policy %s %d: %w", p.Site, p.Version, ErrNotTrusted)
		}
	}
	c := t.clone()
	if c.Policies == nil {
		c.Policies = map[string]*Policy{}
	}
	c.Policies[p.Site] = p
	c.raw["policy/"+p.Site] = bytes.Clone(raw)
	return c, nil
}

// SignedAt returns the time the signed documents held show the trust data
// current at, and no later than notAfter: the oldest of the issue times of
// the status lists (the part that goes stale: a list is as current as it
// was when signed) and, for each issuer the key set names a key for but no
// list is held, of the key set (nothing newer is known of that issuer's
// passes); with no list at all, the key set's. It is the zero Time when no
// document is dated, or an issuer without a list has no dated key set.
// notAfter (the gate's time) keeps a document dated ahead, by a mistake or
// a signer's wrong clock, from vouching for a time that has not come. A
// gate without a hub confirmation yet takes FreshAt from it.
func (t *Trust) SignedAt(notAfter time.Time) time.Time {
	var at time.Time
	older := func(x time.Time) {
		if at.IsZero() || x.Before(at) {
			at = x
		}
	}
	for _, l := range t.Status {
		older(l.IssuedAt)
	}
	if t.Keys != nil {
		ks := time.Unix(t.Keys.IssuedAt, 0).UTC()
		dated := t.Keys.IssuedAt > 0
		if len(t.Status) == 0 && dated {
			older(ks)
		}
		for _, k := range t.Keys.Keys {
			if k.Issuer != "" && t.Status[k.Issuer] == nil {
				if !dated {
					return time.Time{} // nothing dated is known of that issuer
				}
				older(ks)
			}
		}
	}
	if !at.IsZero() && at.After(notAfter) {
		at = notAfter
	}
	return at
}

// WithFreshAt returns t confirmed current at time at (never moving back).
func (t *Trust) WithFreshAt(at time.Time) *Trust {
	if !at.After(t.FreshAt) {
		return t
	}
	c := t.clone()
	c.FreshAt = at
	return c
}
