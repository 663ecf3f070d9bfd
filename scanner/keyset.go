package scanner

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"time"
)

// Role is what a key in a key set may sign.
type Role uint8

// Roles. The root key (from the gate's config) signs key sets and may sign
// anything else too; other keys sign only what their role says.
const (
	RolePassIssuer   Role = 1
	RoleStatusSigner Role = 2
	RolePolicySigner Role = 3
)

var roleNames = map[Role]string{RolePassIssuer: "pass-issuer", RoleStatusSigner: "status-signer", RolePolicySigner: "policy-signer"}

func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// ParseRole is the inverse of Role.String.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown role %q (want pass-issuer, status-signer or policy-signer)", s)
}

// MaxKeys bounds a key set.
const MaxKeys = 1024

// Key is one entry of a key set.
type Key struct {
	ID        []byte   `cbor:"1,keyasint"` // KeyID(Public)
	Public    []byte   `cbor:"2,keyasint"` // Ed25519 public key
	Role      Role     `cbor:"3,keyasint"`
	Issuer    string   `cbor:"4,keyasint,omitempty"` // the issuer it signs for; required for pass-issuer and status-signer
	NotBefore int64    `cbor:"5,keyasint,omitempty"` // Unix seconds; 0: no lower bound
	NotAfter  int64    `cbor:"6,keyasint,omitempty"` // Unix seconds; 0: no upper bound
	Sites     []string `cbor:"7,keyasint,omitempty"` // empty: every site
}

// validAt reports whether the key's validity window holds t.
func (k *Key) validAt(t time.Time) bool {
	s := t.Unix()
	return (k.NotBefore == 0 || s >= k.NotBefore) && (k.NotAfter == 0 || s <= k.NotAfter)
}

// servesSite reports whether the key may sign for site.
func (k *Key) servesSite(site string) bool {
	if len(k.Sites) == 0 {
		return true
	}
	for _, s := range k.Sites {
		if s == site {
			return true
		}
	}
	return false
}

// KeySet is the signed list of keys a gate trusts besides its root key.
type KeySet struct {
	Version  uint64 `cbor:"1,keyasint"`
	IssuedAt int64  `cbor:"2,keyasint"` // Unix seconds
	Keys     []Key  `cbor:"3,keyasint"`
}

// check validates a key set: key IDs derived from their keys and unique,
// roles known, windows sane, issuers named where the role needs one.
func (ks *KeySet) check() error {
	if len(ks.Keys) > MaxKeys {
		return formatErr("%d keys, more than %d", len(ks.Keys), MaxKeys)
	}
	for i := range ks.Keys {
		k := &ks.Keys[i]
		switch {
		case len(k.Public) != ed25519.PublicKeySize:
			return formatErr("key %d: public key of %d bytes", i, len(k.Public))
		case !bytes.Equal(k.ID, KeyID(k.Public)):
			return formatErr("key %d: kid does not match its key", i)
		case roleNames[k.Role] == "":
			return formatErr("key %d: unknown role %d", i, k.Role)
		case k.Role != RolePolicySigner && k.Issuer == "":
			return formatErr("key %d: %s without an issuer", i, k.Role)
		case len(k.Issuer) > MaxIssuerLen:
			return formatErr("key %d: issuer too long", i)
		case k.NotAfter != 0 && k.NotAfter < k.NotBefore:
			return formatErr("key %d: not-after before not-before", i)
		case len(k.Sites) > MaxKeys:
			return formatErr("key %d: too many sites", i)
		}
		for j := range i {
			if bytes.Equal(ks.Keys[j].ID, k.ID) {
				return formatErr("keys %d and %d share a kid", j, i)
			}
		}
	}
	return nil
}

// lookup returns the key with the given ID and role, or nil.
func (ks *KeySet) lookup(kid []byte, role Role) *Key {
	if ks == nil {
		return nil
	}
	for i := range ks.Keys {
		k := &ks.Keys[i]
		if k.Role == role && bytes.Equal(k.ID, kid) {
			return k
		}
	}
	return nil
}

// SignKeySet signs a key set with the root key.
func SignKeySet(ks *KeySet, root ed25519.PrivateKey) ([]byte, error) {
	if err := ks.check(); err != nil {
		return nil, fmt.Errorf("sign key set: %w", err)
	}
	payload, err := encMode.Marshal(ks)
	if err != nil {
		return nil, fmt.Errorf("sign key set: %w", err)
	}
	return signEnvelope(root, ctKeySet, payload)
}

// ParseKeySet verifies a key set signed by root and decodes it.
func ParseKeySet(raw []byte, root ed25519.PublicKey) (*KeySet, error) {
	e, err := parseEnvelope(raw, ctKeySet)
	if err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	if !bytes.Equal(e.header.KID, KeyID(root)) || !e.verify(root) {
		return nil, fmt.Errorf("key set: %w", ErrNotTrusted)
	}
	var ks KeySet
	if err := decodeDeterministic(e.payload, &ks); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	if err := ks.check(); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	return &ks, nil
}
