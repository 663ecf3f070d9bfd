package scanner

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// SigCache remembers pass signatures that verified, so that a pass shown
// again — a resident going out and coming back, the same phone held up at
// the next gate of the compound — skips its Ed25519 verification, the
// largest part of a decision's CPU work.
//
// An entry is a salted SHA-256 of the public key, the signature and the
// signed bytes (the COSE Sig_structure), so a hit means exactly that this
// key verified this signature over these bytes before: a fact that no key
// set, status list or policy can change. Everything else in a decision —
// that the key is still in the key set with its role, issuer, validity
// and sites; the pass's times, status and the site's rules — is checked on
// every read as before; the cache stands in for the signature arithmetic
// alone. Only signatures that verified are remembered; a forged pass is
// verified (and denied) every time it is shown.
//
// The salt is random per cache, so entries cannot be precomputed, and the
// cache lives in memory only: nothing of it reaches the disk. It holds at
// most the size it was made with, forgetting the oldest entry first. It is
// safe for concurrent use.
type SigCache struct {
	salt [32]byte

	mu   sync.Mutex
	seen map[[32]byte]struct{}
	ring [][32]byte // insertion order; ring[next] is the oldest once full
	next int
	hits uint64
}

// NewSigCache returns a cache of at most size verified signatures (at
// least one).
func NewSigCache(size int) *SigCache {
	size = max(size, 1)
	c := &SigCache{seen: make(map[[32]byte]struct{}, size), ring: make([][32]byte, 0, size)}
	if _, err := rand.Read(c.salt[:]); err != nil {
		// crypto/rand does not fail on the systems this runs on; a cache
		// without a salt is still correct, only precomputable.
		clear(c.salt[:])
	}
	return c
}

// Hits returns how many verifications the cache has saved.
func (c *SigCache) Hits() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// Len returns how many signatures the cache holds.
func (c *SigCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// verify reports whether sig is pub's valid signature of msg, from the
// cache when it can. A nil cache always verifies.
func (c *SigCache) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if c == nil {
		return ed25519.Verify(pub, msg, sig)
	}
	h := sha256.New()
	h.Write(c.salt[:])
	var n [8]byte
	for _, part := range [][]byte{pub, sig, msg} {
		// Length-prefixed, so no two triples hash the same bytes.
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var k [32]byte
	h.Sum(k[:0])

	c.mu.Lock()
	_, ok := c.seen[k]
	if ok {
		c.hits++
	}
	c.mu.Unlock()
	if ok {
		return true
	}
	if !ed25519.Verify(pub, msg, sig) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[k]; ok {
		return true
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, k)
	} else {
		delete(c.seen, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % len(c.ring)
	}
	c.seen[k] = struct{}{}
	return true
}

// WithSigCache returns t whose pass decisions use c for signatures already
// verified (see SigCache). The trust documents derived from the result
// (WithKeySet and the others) keep using c. A nil c turns the cache off.
func (t *Trust) WithSigCache(c *SigCache) *Trust {
	n := t.clone()
	n.sigs = c
	return n
}
