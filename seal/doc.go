// Package seal seals gate events so that only the hub can read them.
//
// A gate must not be able to read its own log: the device may be stolen, and
// a copy of its SD card must not reveal who passed. The gate therefore holds
// only the hub's public key. Events are sealed in segments: each segment has
// a fresh random symmetric key, sealed once to the hub's X25519 public key
// (nacl/box anonymous sealing) into a segment header, and then held only in
// memory. Each event of the segment is sealed with ChaCha20-Poly1305 under
// the segment key, with a nonce derived from the event's sequence number, so
// an event costs at most 32 bytes more than its plaintext (a 16-byte tag and
// 1 to 16 bytes of padding).
//
// The device side is a [Sealer]; the hub side is an [Opener]. Both sides of
// the format live here so that they cannot drift apart; docs/store.md
// describes it byte by byte.
//
// # Invariants
//
//   - A segment key never leaves the Sealer's memory in the clear, and is
//     never written anywhere except inside its sealed header.
//   - A (segment key, sequence) pair seals at most one message: a Sealer
//     starts a new segment whenever asked to seal a sequence that is not
//     greater than the last one it sealed (as after a failed write that is
//     retried under the same sequence), and after every SegmentSize events.
//   - Opening authenticates: a box opens only with its own header and its own
//     sequence; anything else is [ErrOpen], never a partial plaintext.
//
// # Format
//
// Header (81 bytes): version 0x01 || nacl/box SealAnonymous(segment key) to
// the hub's public key (32-byte ephemeral public key, 16-byte tag, 32-byte
// key).
//
// Box: ChaCha20-Poly1305 (RFC 8439) with the segment key, nonce = four zero
// bytes || sequence as big-endian uint64, no additional data, over the
// message padded ISO/IEC 7816-4 style (0x80 then zero bytes) to a multiple
// of 16 bytes.
//
// # Keys
//
// [GenerateKey] makes a hub key pair. Keys have text forms for configs:
// "cpseal-pub-" or "cpseal-priv-" followed by the 32 key bytes in unpadded
// base64url. A [PrivateKey] prints as a redacted string, through fmt
// (every verb) and log/slog alike; MarshalText writes it out.
package seal
