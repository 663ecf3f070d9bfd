package scanner

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

// COSE_Sign1 (RFC 9052 §4.2), the envelope of every pass and trust
// document. Only EdDSA over Ed25519 is accepted, and the algorithm, the key
// ID and the content type must all be in the protected header; the
// unprotected header must be empty.

const (
	algEdDSA  = -8 // COSE algorithm EdDSA (RFC 9053 §2.2)
	sign1Tag  = 18 // CBOR tag of COSE_Sign1
	sigLength = ed25519.SignatureSize
)

// Content types (COSE header 3) that keep one kind of signed document from
// being taken for another.
const (
	ctPass        = "cp-pass"
	ctKeySet      = "cp-keys"
	ctStatus      = "cp-status"
	ctStatusDelta = "cp-delta"
	ctPolicy      = "cp-policy"
)

// coseHeader holds the header parameters we know. Any other label is an
// error (the decoder rejects unknown fields), which also refuses "crit".
type coseHeader struct {
	Alg         int64  `cbor:"1,keyasint,omitempty"`
	ContentType string `cbor:"3,keyasint,omitempty"`
	KID         []byte `cbor:"4,keyasint,omitempty"`
}

type sign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected coseHeader
	Payload     []byte
	Signature   []byte
}

type sigStructure struct {
	_           struct{} `cbor:",toarray"`
	Context     string
	Protected   []byte
	ExternalAAD []byte
	Payload     []byte
}

var (
	sign1Enc cbor.EncMode
	sign1Dec cbor.DecMode
)

func init() {
	tags := cbor.NewTagSet()
	err := tags.Add(cbor.TagOptions{EncTag: cbor.EncTagRequired, DecTag: cbor.DecTagRequired},
		reflect.TypeOf(sign1{}), sign1Tag)
	if err != nil {
		panic(fmt.Sprintf("scanner: cose tag: %v", err))
	}
	sign1Enc, err = cbor.CoreDetEncOptions().EncModeWithTags(tags)
	if err != nil {
		panic(fmt.Sprintf("scanner: cose encoder: %v", err))
	}
	opts := decMode.DecOptions()
	opts.TagsMd = cbor.TagsAllowed
	sign1Dec, err = opts.DecModeWithTags(tags)
	if err != nil {
		panic(fmt.Sprintf("scanner: cose decoder: %v", err))
	}
}

// envelope is a parsed, not yet verified, COSE_Sign1.
type envelope struct {
	header    coseHeader
	protected []byte
	payload   []byte
	signature []byte
}

// A FormatError says why bytes are not a well-formed signed object. It never
// holds personal data.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// parseEnvelope decodes a COSE_Sign1 and checks its headers, expecting
// content type ct. It does not verify the signature.
func parseEnvelope(b []byte, ct string) (*envelope, error) {
	var s sign1
	if err := sign1Dec.Unmarshal(b, &s); err != nil {
		return nil, formatErr("not a COSE_Sign1: %v", err)
	}
	var e envelope
	if len(s.Protected) == 0 {
		return nil, formatErr("empty protected header")
	}
	if err := decMode.Unmarshal(s.Protected, &e.header); err != nil {
		return nil, formatErr("protected header: %v", err)
	}
	u := s.Unprotected
	switch {
	case e.header.Alg == 0 && u.Alg != 0:
		return nil, formatErr("algorithm only in the unprotected header")
	case e.header.Alg == 0:
		return nil, formatErr("no algorithm in the protected header")
	case e.header.Alg != algEdDSA:
		return nil, formatErr("algorithm %d, want EdDSA (%d)", e.header.Alg, algEdDSA)
	case len(e.header.KID) == 0 && len(u.KID) != 0:
		return nil, formatErr("kid only in the unprotected header")
	case len(e.header.KID) == 0:
		return nil, formatErr("kid missing")
	case len(e.header.KID) != KeyIDSize:
		return nil, formatErr("kid of %d bytes, want %d", len(e.header.KID), KeyIDSize)
	case u.Alg != 0 || u.ContentType != "" || u.KID != nil:
		return nil, formatErr("unprotected header not empty")
	case e.header.ContentType != ct:
		return nil, formatErr("content type %q, want %q", e.header.ContentType, ct)
	case len(s.Payload) == 0:
		return nil, formatErr("no payload")
	case len(s.Signature) != sigLength:
		return nil, formatErr("signature of %d bytes, want %d", len(s.Signature), sigLength)
	}
	// One object, one encoding: a pass or document that decodes but is
	// not in deterministic form (longer lengths, reordered keys) is
	// refused, so every signed object has exactly one text.
	if canon, err := sign1Enc.Marshal(&s); err != nil || !bytes.Equal(canon, b) {
		return nil, formatErr("COSE_Sign1 not in deterministic encoding")
	}
	if canon, err := encMode.Marshal(&e.header); err != nil || !bytes.Equal(canon, s.Protected) {
		return nil, formatErr("protected header not in deterministic encoding")
	}
	e.protected, e.payload, e.signature = s.Protected, s.Payload, s.Signature
	return &e, nil
}

// toBeSigned returns the Sig_structure (RFC 9052 §4.4) that is signed.
func toBeSigned(protected, payload []byte) ([]byte, error) {
	return encMode.Marshal(sigStructure{
		Context:     "Signature1",
		Protected:   protected,
		ExternalAAD: []byte{},
		Payload:     payload,
	})
}

// verify reports whether the envelope's signature is valid under pub.
func (e *envelope) verify(pub ed25519.PublicKey) bool {
	return e.verifyCached(pub, nil)
}

// verifyCached is verify through c (nil: no cache).
func (e *envelope) verifyCached(pub ed25519.PublicKey, c *SigCache) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	tbs, err := toBeSigned(e.protected, e.payload)
	if err != nil {
		return false
	}
	return c.verify(pub, tbs, e.signature)
}

var errNoKey = errors.New("no signing key")

// signEnvelope signs payload with key as a COSE_Sign1 of content type ct.
func signEnvelope(key ed25519.PrivateKey, ct string, payload []byte) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errNoKey
	}
	pub := key.Public().(ed25519.PublicKey)
	prot, err := encMode.Marshal(coseHeader{Alg: algEdDSA, ContentType: ct, KID: KeyID(pub)})
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	tbs, err := toBeSigned(prot, payload)
	if err != nil {
		return nil, fmt.Errorf("encode sig structure: %w", err)
	}
	b, err := sign1Enc.Marshal(sign1{
		Protected: prot,
		Payload:   payload,
		Signature: ed25519.Sign(key, tbs),
	})
	if err != nil {
		return nil, fmt.Errorf("encode COSE_Sign1: %w", err)
	}
	return b, nil
}
