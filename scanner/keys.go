package scanner

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeyIDSize is the length of a key ID: the first bytes of SHA-256 of the
// Ed25519 public key. Deriving the ID from the key means two different keys
// cannot honestly share one, and a key set that claims otherwise is refused.
const KeyIDSize = 8

// KeyID returns the key ID of an Ed25519 public key.
func KeyID(pub ed25519.PublicKey) []byte {
	h := sha256.Sum256(pub)
	return h[:KeyIDSize]
}

// Key file headers. A key file is one line: the header, then the key in
// standard Base64 (the 32-byte seed for a private key, the 32-byte public
// key for a public one).
const (
	privateKeyHeader = "checkpoint-ed25519-private-key:"
	publicKeyHeader  = "checkpoint-ed25519-public-key:"
)

// MarshalPrivateKey encodes a private key in the key file form.
func MarshalPrivateKey(k ed25519.PrivateKey) []byte {
	return []byte(privateKeyHeader + base64.StdEncoding.EncodeToString(k.Seed()) + "\n")
}

// MarshalPublicKey encodes a public key in the key file form.
func MarshalPublicKey(k ed25519.PublicKey) []byte {
	return []byte(publicKeyHeader + base64.StdEncoding.EncodeToString(k) + "\n")
}

var errKeyFile = errors.New("not a checkpoint key file")

// ParsePrivateKey decodes a private key file.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	raw, err := parseKeyFile(b, privateKeyHeader, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return ed25519.NewKeyFromSeed(raw), nil
}

// ParsePublicKey decodes a public key file.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	raw, err := parseKeyFile(b, publicKeyHeader, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return ed25519.PublicKey(raw), nil
}

func parseKeyFile(b []byte, header string, size int) ([]byte, error) {
	if len(b) > 256 {
		return nil, errKeyFile
	}
	b = bytes.TrimSpace(b)
	rest, ok := bytes.CutPrefix(b, []byte(header))
	if !ok {
		other := publicKeyHeader
		if header == publicKeyHeader {
			other = privateKeyHeader
		}
		if bytes.HasPrefix(b, []byte(other)) {
			return nil, fmt.Errorf("%w: it holds the other half of the key pair", errKeyFile)
		}
		return nil, errKeyFile
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(string(rest))
	if err != nil || len(raw) != size {
		return nil, fmt.Errorf("%w: bad key encoding", errKeyFile)
	}
	return raw, nil
}
