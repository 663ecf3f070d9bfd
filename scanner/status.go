package scanner

import (
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// StatusList holds the current colour of every pass an issuer has issued,
// 2 bits per pass index (the Colour values). It is immutable once made or
// parsed; Set is for the hub, before signing.
type StatusList struct {
	Issuer   string
	Version  uint64
	IssuedAt time.Time
	size     uint32
	bits     []byte // index i in bits[i/4] at bit 2*(i%4); unused bits zero
	signer   []byte // the kid that signed it (or the delta that made it); nil when made here
}

// NewStatusList returns a list of size indices, all green.
func NewStatusList(issuer string, version uint64, issuedAt time.Time, size uint32) (*StatusList, error) {
	if size > maxStatusSize {
		return nil, fmt.Errorf("status list of %d indices, more than %d", size, maxStatusSize)
	}
	return &StatusList{Issuer: issuer, Version: version, IssuedAt: issuedAt, size: size, bits: make([]byte, (size+3)/4)}, nil
}

// Len returns the number of indices the list covers.
func (l *StatusList) Len() uint32 { return l.size }

// Get returns the colour at index i; ok is false when i is out of range.
func (l *StatusList) Get(i uint32) (c Colour, ok bool) {
	if i >= l.size {
		return 0, false
	}
	return Colour(l.bits[i/4] >> (2 * (i % 4)) & 3), true
}

// Set sets the colour at index i, which must be in range.
func (l *StatusList) Set(i uint32, c Colour) {
	shift := 2 * (i % 4)
	l.bits[i/4] = l.bits[i/4]&^(3<<shift) | byte(c&3)<<shift
}

// Clone returns a copy with the given version and issue time.
func (l *StatusList) Clone(version uint64, issuedAt time.Time) *StatusList {
	return &StatusList{Issuer: l.Issuer, Version: version, IssuedAt: issuedAt, size: l.size, bits: bytes.Clone(l.bits)}
}

// Digest is SHA-256 over the issuer, version, size and bits: what a delta
// promises its result will be.
func (l *StatusList) Digest() [32]byte {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte("checkpoint status list v1\x00"))
	binary.BigEndian.PutUint64(n[:], uint64(len(l.Issuer)))
	h.Write(n[:])
	h.Write([]byte(l.Issuer))
	binary.BigEndian.PutUint64(n[:], l.Version)
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(l.size))
	h.Write(n[:])
	h.Write(l.bits)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

type statusWire struct {
	Issuer   string `cbor:"1,keyasint"`
	Version  uint64 `cbor:"2,keyasint"`
	IssuedAt int64  `cbor:"3,keyasint"`
	Size     uint32 `cbor:"4,keyasint"`
	Bits     []byte `cbor:"5,keyasint"` // raw DEFLATE of the packed bits
}

// maxChanges bounds a delta; a larger change goes as a full list.
const maxChanges = 1 << 20

type deltaWire struct {
	Issuer   string `cbor:"1,keyasint"`
	From     uint64 `cbor:"2,keyasint"`
	To       uint64 `cbor:"3,keyasint"`
	IssuedAt int64  `cbor:"4,keyasint"`
	Size     uint32 `cbor:"5,keyasint"`
	Changes  []byte `cbor:"6,keyasint"` // raw DEFLATE of big-endian uint32s: index<<2 | colour, ascending
	Digest   []byte `cbor:"7,keyasint"` // Digest() of the result
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// inflate decompresses exactly n bytes, refusing more or fewer.
func inflate(b []byte, n int) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(b))
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, formatErr("compressed data: %v", err)
	}
	var one [1]byte
	if k, err := r.Read(one[:]); k != 0 || err != io.EOF {
		return nil, formatErr("compressed data longer than declared")
	}
	return out, nil
}

// SignStatusList signs a full status list with key (the root key or a
// status signer for the list's issuer).
func SignStatusList(l *StatusList, key ed25519.PrivateKey) ([]byte, error) {
	payload, err := encMode.Marshal(statusWire{
		Issuer: l.Issuer, Version: l.Version, IssuedAt: l.IssuedAt.Unix(), Size: l.size, Bits: deflate(l.bits),
	})
	if err != nil {
		return nil, fmt.Errorf("sign status list: %w", err)
	}
	return signEnvelope(key, ctStatus, payload)
}

// SignStatusDelta signs the changes that turn from into to.
func SignStatusDelta(from, to *StatusList, key ed25519.PrivateKey) ([]byte, error) {
	if from.Issuer != to.Issuer || to.Version <= from.Version {
		return nil, errors.New("sign status delta: lists of different issuers or versions not ascending")
	}
	var ch []byte
	for i := uint32(0); i < to.size; i++ {
		c, _ := to.Get(i)
		old, ok := from.Get(i)
		if ok && old == c || !ok && c == Green {
			continue
		}
		ch = binary.BigEndian.AppendUint32(ch, i<<2|uint32(c))
	}
	if len(ch)/4 > maxChanges {
		return nil, fmt.Errorf("sign status delta: %d changes, send a full list", len(ch)/4)
	}
	d := to.Digest()
	payload, err := encMode.Marshal(deltaWire{
		Issuer: to.Issuer, From: from.Version, To: to.Version, IssuedAt: to.IssuedAt.Unix(),
		Size: to.size, Changes: deflate(ch), Digest: d[:],
	})
	if err != nil {
		return nil, fmt.Errorf("sign status delta: %w", err)
	}
	return signEnvelope(key, ctStatusDelta, payload)
}

// ParseStatusList verifies and decodes a full status list. It must be signed
// by root or by a status signer for its issuer in keys.
func ParseStatusList(raw []byte, root ed25519.PublicKey, keys *KeySet) (*StatusList, error) {
	e, err := parseEnvelope(raw, ctStatus)
	if err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	var w statusWire
	if err := decodeDeterministic(e.payload, &w); err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	if err := checkSigner(e, root, keys, RoleStatusSigner, w.Issuer, "", w.IssuedAt); err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	if w.Issuer == "" || len(w.Issuer) > MaxIssuerLen || w.Size > maxStatusSize {
		return nil, fmt.Errorf("status list: %w", formatErr("issuer or size out of range"))
	}
	bits, err := inflate(w.Bits, int((w.Size+3)/4))
	if err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	if w.Size%4 != 0 && bits[len(bits)-1]>>(2*(w.Size%4)) != 0 {
		return nil, fmt.Errorf("status list: %w", formatErr("bits set past the end"))
	}
	return &StatusList{Issuer: w.Issuer, Version: w.Version, IssuedAt: time.Unix(w.IssuedAt, 0).UTC(), size: w.Size, bits: bits, signer: e.header.KID}, nil
}

// ErrDeltaBase is returned when a delta does not start at the version held:
// the gate must fetch the full list instead.
var ErrDeltaBase = errors.New("delta does not apply to the version held")

// ApplyDelta verifies a signed delta and returns the list it leads to. The
// delta must start at exactly l's version, and the result must match the
// digest it carries; otherwise the gate fetches a full list.
func (l *StatusList) ApplyDelta(raw []byte, root ed25519.PublicKey, keys *KeySet) (*StatusList, error) {
	e, err := parseEnvelope(raw, ctStatusDelta)
	if err != nil {
		return nil, fmt.Errorf("status delta: %w", err)
	}
	var w deltaWire
	if err := decodeDeterministic(e.payload, &w); err != nil {
		return nil, fmt.Errorf("status delta: %w", err)
	}
	if err := checkSigner(e, root, keys, RoleStatusSigner, w.Issuer, "", w.IssuedAt); err != nil {
		return nil, fmt.Errorf("status delta: %w", err)
	}
	switch {
	case w.Issuer != l.Issuer || w.From != l.Version:
		return nil, fmt.Errorf("status delta %s %d→%d onto %s %d: %w", w.Issuer, w.From, w.To, l.Issuer, l.Version, ErrDeltaBase)
	case w.To <= w.From:
		return nil, fmt.Errorf("status delta: %w", formatErr("versions not ascending"))
	case w.Size > maxStatusSize:
		return nil, fmt.Errorf("status delta: %w", formatErr("size out of range"))
	case len(w.Digest) != sha256.Size:
		return nil, fmt.Errorf("status delta: %w", formatErr("digest of %d bytes", len(w.Digest)))
	}
	// The packed changes are at most 4 bytes an index; a delta that
	// declares more than that inflates to an error, not to memory.
	out := &StatusList{Issuer: l.Issuer, Version: w.To, IssuedAt: time.Unix(w.IssuedAt, 0).UTC(), size: w.Size, bits: make([]byte, (w.Size+3)/4), signer: e.header.KID}
	copy(out.bits, l.bits)
	if w.Size < l.size && w.Size%4 != 0 {
		out.bits[len(out.bits)-1] &= 1<<(2*(w.Size%4)) - 1
	}
	ch, err := inflateAll(w.Changes, 4*min(int(w.Size), maxChanges))
	if err != nil {
		return nil, fmt.Errorf("status delta: %w", err)
	}
	if len(ch)%4 != 0 {
		return nil, fmt.Errorf("status delta: %w", formatErr("changes not whole"))
	}
	prev := int64(-1)
	for i := 0; i < len(ch); i += 4 {
		v := binary.BigEndian.Uint32(ch[i:])
		idx := v >> 2
		if int64(idx) <= prev || idx >= w.Size {
			return nil, fmt.Errorf("status delta: %w", formatErr("change index out of order or range"))
		}
		prev = int64(idx)
		out.Set(idx, Colour(v&3))
	}
	if d := out.Digest(); !bytes.Equal(d[:], w.Digest) {
		return nil, fmt.Errorf("status delta: result does not match its digest: %w", ErrDeltaBase)
	}
	return out, nil
}

// inflateAll decompresses at most limit bytes.
func inflateAll(b []byte, limit int) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(b))
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, formatErr("compressed data: %v", err)
	}
	if len(out) > limit {
		return nil, formatErr("compressed data longer than allowed")
	}
	return out, nil
}
