package scanner

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits that bound every CBOR item the gate decodes. A pass is a few
// hundred bytes; trust documents are larger but still bounded.
const (
	maxNesting  = 8
	maxElements = 4096
)

var (
	encMode cbor.EncMode // Core Deterministic Encoding (RFC 8949 §4.2.1)
	decMode cbor.DecMode // strict: no duplicates, no indefinite lengths, no unknown fields
)

func init() {
	var err error
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(fmt.Sprintf("scanner: cbor encoder: %v", err))
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   maxNesting,
		MaxArrayElements:  maxElements,
		MaxMapPairs:       maxElements,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("scanner: cbor decoder: %v", err))
	}
}

// decodeDeterministic decodes a trust document's payload into v and
// refuses it unless it is the deterministic encoding of what it decodes to,
// as a pass's claims must be: every signed object has exactly one text.
func decodeDeterministic(payload []byte, v any) error {
	if err := decMode.Unmarshal(payload, v); err != nil {
		return formatErr("%v", err)
	}
	if canon, err := encMode.Marshal(v); err != nil || !bytes.Equal(canon, payload) {
		return formatErr("not in deterministic encoding")
	}
	return nil
}
