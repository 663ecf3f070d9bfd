package seal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/crypto/curve25519"
)

// KeySize is the size of a public or private key in bytes.
const KeySize = 32

const (
	publicPrefix  = "cpseal-pub-"
	privatePrefix = "cpseal-priv-"
)

var b64 = base64.RawURLEncoding

// PublicKey is the hub's X25519 public key, the one key a gate needs.
type PublicKey [KeySize]byte

// IsZero reports whether k is the zero key (unset).
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

// Equal reports whether k and o are the same key, in constant time.
func (k PublicKey) Equal(o PublicKey) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// String returns the key's text form, "cpseal-pub-" and base64url.
func (k PublicKey) String() string { return publicPrefix + b64.EncodeToString(k[:]) }

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	v, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParsePublicKey parses the text form of a public key.
func ParsePublicKey(s string) (PublicKey, error) {
	var k PublicKey
	if err := parseKey(s, publicPrefix, k[:]); err != nil {
		return PublicKey{}, fmt.Errorf("parse seal public key: %w", err)
	}
	if k.IsZero() {
		return PublicKey{}, errors.New("parse seal public key: zero key")
	}
	if k.lowOrder() {
		return PublicKey{}, errors.New("parse seal public key: a point of low order, not a key")
	}
	return k, nil
}

// lowOrder reports whether k is a point of small order (or the zero
// point): sealed to one, every segment key could be opened by anyone,
// since its shared secret with any ephemeral key is all zeros. X25519
// refuses that output, and a clamped scalar is a multiple of the
// cofactor, so one fixed scalar tells.
func (k PublicKey) lowOrder() bool {
	probe := [KeySize]byte{9}
	_, err := curve25519.X25519(probe[:], k[:])
	return err != nil
}

// PrivateKey is the hub's X25519 private key. It stays on the hub.
type PrivateKey struct {
	k   [KeySize]byte
	pub PublicKey
}

// GenerateKey returns a new random hub key pair.
func GenerateKey() (*PrivateKey, error) {
	var k PrivateKey
	if _, err := rand.Read(k.k[:]); err != nil {
		return nil, fmt.Errorf("generate seal key: %w", err)
	}
	if err := k.derive(); err != nil {
		return nil, err
	}
	return &k, nil
}

// NewPrivateKey returns the private key whose 32 raw bytes are b.
func NewPrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("seal private key: %d bytes, want %d", len(b), KeySize)
	}
	var k PrivateKey
	copy(k.k[:], b)
	if err := k.derive(); err != nil {
		return nil, err
	}
	return &k, nil
}

func (k *PrivateKey) derive() error {
	pub, err := curve25519.X25519(k.k[:], curve25519.Basepoint)
	if err != nil {
		return fmt.Errorf("seal private key: %w", err)
	}
	copy(k.pub[:], pub)
	return nil
}

// ParsePrivateKey parses the text form of a private key.
func ParsePrivateKey(s string) (*PrivateKey, error) {
	var b [KeySize]byte
	if err := parseKey(s, privatePrefix, b[:]); err != nil {
		return nil, fmt.Errorf("parse seal private key: %w", err)
	}
	return NewPrivateKey(b[:])
}

// Public returns the public key that gates seal to.
func (k *PrivateKey) Public() PublicKey { return k.pub }

// Bytes returns a copy of the raw private key.
func (k *PrivateKey) Bytes() []byte { return append([]byte(nil), k.k[:]...) }

// String is redacted, so that a private key never reaches a log by accident.
// Use MarshalText to write the key out.
func (k PrivateKey) String() string { return privatePrefix + "REDACTED" }

// GoString is redacted too (%#v).
func (k PrivateKey) GoString() string { return k.String() }

// Format is redacted for every verb (%d, %x and the others would print
// the key's bytes).
func (k PrivateKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// LogValue is redacted too: log/slog's handlers would otherwise write the
// key out by its MarshalText.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText returns the key's text form, "cpseal-priv-" and base64url.
func (k *PrivateKey) MarshalText() ([]byte, error) {
	return []byte(privatePrefix + b64.EncodeToString(k.k[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PrivateKey) UnmarshalText(b []byte) error {
	v, err := ParsePrivateKey(string(b))
	if err != nil {
		return err
	}
	*k = *v
	return nil
}

func parseKey(s, prefix string, out []byte) error {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return fmt.Errorf("want prefix %q", prefix)
	}
	if b64.EncodedLen(len(out)) != len(rest) {
		return fmt.Errorf("want %d base64url characters after the prefix, got %d", b64.EncodedLen(len(out)), len(rest))
	}
	n, err := b64.Decode(out, []byte(rest))
	if err != nil {
		return fmt.Errorf("bad base64url: %w", err)
	}
	if n != len(out) {
		return fmt.Errorf("decoded %d bytes, want %d", n, len(out))
	}
	return nil
}
