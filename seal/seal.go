package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/nacl/box"
)

// Format constants. See the package documentation.
const (
	// Version is the first byte of every segment header.
	Version = 0x01
	// HeaderSize is the size of a segment header in bytes.
	HeaderSize = 1 + box.AnonymousOverhead + segmentKeySize
	// TagSize is the size of the authentication tag on every box.
	TagSize = chacha20poly1305.Overhead
	// PadBlock is the block the plaintext is padded to.
	PadBlock = 16
	// MaxOverhead is the most a box can be longer than its message.
	MaxOverhead = TagSize + PadBlock
	// MaxMessage bounds a message (and so a box): events are small, and a
	// bound keeps a hostile or corrupt box from costing the hub memory.
	MaxMessage = 64 << 10

	// DefaultSegmentSize is the number of events a Sealer seals under one
	// segment key when SegmentSize is zero.
	DefaultSegmentSize = 256

	segmentKeySize = chacha20poly1305.KeySize
)

// ErrOpen is returned by Opener.Open for a header or box that does not open:
// the wrong hub key, a damaged or forged header or box, or a box presented
// with another sequence or header than it was sealed with.
var ErrOpen = errors.New("seal: cannot open")

// Segment is the header that the events of one segment need to be opened.
// The header is the same bytes for every event of the segment; First is the
// sequence of the first event sealed in it. Store the header once per
// segment, beside the events.
type Segment struct {
	First  uint64
	Header []byte
}

// Sealer seals events on the device. It holds the current segment key in
// memory only. A Sealer is safe for concurrent use.
type Sealer struct {
	hub   PublicKey
	size  int
	rand  io.Reader
	mu    sync.Mutex
	aead  cipher.AEAD // nil: no open segment
	seg   Segment
	last  uint64
	count int
}

// SealerOptions configures a Sealer. The zero value is ready to use.
type SealerOptions struct {
	// SegmentSize is how many events share one segment key; 0 means
	// DefaultSegmentSize. Smaller segments expose fewer events to someone
	// who reads the device's memory, at 81 bytes of header each.
	SegmentSize int
	// Rand is the source of segment keys; nil means crypto/rand.
	Rand io.Reader
}

// NewSealer returns a Sealer that seals to the hub's public key. It returns
// an error for a zero key.
func NewSealer(hub PublicKey, opt SealerOptions) (*Sealer, error) {
	if hub.IsZero() {
		return nil, errors.New("seal: hub public key is not set")
	}
	if hub.lowOrder() {
		return nil, errors.New("seal: hub public key is a point of low order, not a key")
	}
	s := &Sealer{hub: hub, size: opt.SegmentSize, rand: opt.Rand}
	if s.size <= 0 {
		s.size = DefaultSegmentSize
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// Seal seals msg as the event with sequence seq. It returns the box and the
// segment it belongs to; when seg.First == seq the segment is new, and its
// header must be stored together with this event. It returns an error only
// when msg is too long or the random source fails.
func (s *Sealer) Seal(seq uint64, msg []byte) (sealed []byte, seg Segment, err error) {
	if len(msg) > MaxMessage {
		return nil, Segment{}, fmt.Errorf("seal: message of %d bytes exceeds %d", len(msg), MaxMessage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead == nil || s.count >= s.size || seq <= s.last {
		if err := s.newSegment(seq); err != nil {
			return nil, Segment{}, err
		}
	}
	out := s.aead.Seal(nil, nonce(seq), pad(msg), nil)
	s.last = seq
	s.count++
	return out, s.seg, nil
}

// Rotate drops the current segment key; the next Seal starts a new segment.
func (s *Sealer) Rotate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aead = nil
}

func (s *Sealer) newSegment(first uint64) error {
	var key [segmentKeySize]byte
	defer clear(key[:])
	if _, err := io.ReadFull(s.rand, key[:]); err != nil {
		return fmt.Errorf("seal: segment key: %w", err)
	}
	hub := [KeySize]byte(s.hub)
	hdr := make([]byte, 1, HeaderSize)
	hdr[0] = Version
	hdr, err := box.SealAnonymous(hdr, key[:], &hub, s.rand)
	if err != nil {
		return fmt.Errorf("seal: segment header: %w", err)
	}
	aead, err := chacha20poly1305.New(key[:])
	if err != nil {
		return fmt.Errorf("seal: segment cipher: %w", err)
	}
	s.aead = aead
	s.seg = Segment{First: first, Header: hdr}
	s.count = 0
	return nil
}

func nonce(seq uint64) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(n[chacha20poly1305.NonceSize-8:], seq)
	return n
}

// pad appends 0x80 and zeros up to a multiple of PadBlock.
func pad(msg []byte) []byte {
	n := (len(msg)/PadBlock + 1) * PadBlock
	out := make([]byte, n, n+TagSize)
	copy(out, msg)
	out[len(msg)] = 0x80
	return out
}

func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b)%PadBlock != 0 {
		return nil, false
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-PadBlock; i-- {
		switch b[i] {
		case 0:
			continue
		case 0x80:
			return b[:i], true
		default:
			return nil, false
		}
	}
	return nil, false
}

// Opener opens sealed events on the hub. It caches the keys of recently
// seen segment headers, so opening many events of one segment costs one
// X25519 operation. An Opener is safe for concurrent use.
type Opener struct {
	priv  *PrivateKey
	mu    sync.Mutex
	cache map[string]cipher.AEAD
}

// openerCacheSize bounds the Opener's header cache.
const openerCacheSize = 256

// NewOpener returns an Opener for the hub's private key.
func NewOpener(priv *PrivateKey) *Opener {
	return &Opener{priv: priv, cache: make(map[string]cipher.AEAD)}
}

// Open returns the message sealed in sealed as event seq of the segment
// with the given header. It returns ErrOpen (possibly wrapped) for anything
// that does not authenticate, and never a partial message.
func (o *Opener) Open(header []byte, seq uint64, sealed []byte) ([]byte, error) {
	if len(sealed) < TagSize+PadBlock || len(sealed) > MaxMessage+MaxOverhead || (len(sealed)-TagSize)%PadBlock != 0 {
		return nil, fmt.Errorf("%w: box of %d bytes", ErrOpen, len(sealed))
	}
	aead, err := o.segment(header)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, nonce(seq), sealed, nil)
	if err != nil {
		return nil, ErrOpen
	}
	msg, ok := unpad(pt)
	if !ok {
		return nil, fmt.Errorf("%w: bad padding", ErrOpen)
	}
	return msg, nil
}

func (o *Opener) segment(header []byte) (cipher.AEAD, error) {
	if len(header) != HeaderSize {
		return nil, fmt.Errorf("%w: header of %d bytes, want %d", ErrOpen, len(header), HeaderSize)
	}
	if header[0] != Version {
		return nil, fmt.Errorf("%w: header version %d, want %d", ErrOpen, header[0], Version)
	}
	o.mu.Lock()
	aead, ok := o.cache[string(header)]
	o.mu.Unlock()
	if ok {
		return aead, nil
	}
	pub, priv := [KeySize]byte(o.priv.pub), o.priv.k
	key, ok := box.OpenAnonymous(nil, header[1:], &pub, &priv)
	clear(priv[:])
	if !ok || len(key) != segmentKeySize {
		return nil, fmt.Errorf("%w: segment header", ErrOpen)
	}
	aead, err := chacha20poly1305.New(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	o.mu.Lock()
	if len(o.cache) >= openerCacheSize {
		clear(o.cache)
	}
	o.cache[string(header)] = aead
	o.mu.Unlock()
	return aead, nil
}
