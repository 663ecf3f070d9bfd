package scanner

import (
	"fmt"
	"time"
)

// Event is one logged read at a gate: the decision and what it was about.
// Events are the gate's only precious data. They carry personal data (the
// pass ID, household ID and holder text), so the store seals them before they
// reach the disk and only the hub can open them.
//
// MarshalBinary and UnmarshalBinary give the one encoding (deterministic
// CBOR, integer keys) that the device seals and the hub opens.
type Event struct {
	Seq uint64 `cbor:"1,keyasint"` // per-device sequence, assigned by the store, never reused

	BootID      [16]byte      `cbor:"2,keyasint"` // random per boot
	Mono        time.Duration `cbor:"3,keyasint"` // monotonic time since boot
	Wall        int64         `cbor:"4,keyasint"` // wall time, Unix nanoseconds (the time floor when untrusted)
	WallTrusted bool          `cbor:"5,keyasint"` // whether Wall came from a trusted clock

	Site      string    `cbor:"6,keyasint"`
	Direction Direction `cbor:"7,keyasint"`
	Input     string    `cbor:"8,keyasint,omitempty"` // which input read it (config name)

	Allow   bool   `cbor:"9,keyasint"`
	Reason  Reason `cbor:"10,keyasint"`
	Status  Colour `cbor:"11,keyasint"` // the pass's effective colour; meaningless without a pass
	Flagged bool   `cbor:"12,keyasint,omitempty"`
	Detail  string `cbor:"13,keyasint,omitempty"` // technical detail; never personal data

	// About the pass; empty when it did not parse or verify.
	Issuer    string `cbor:"14,keyasint,omitempty"`
	PassID    []byte `cbor:"15,keyasint,omitempty"`
	Household []byte `cbor:"16,keyasint,omitempty"`
	Holder    string `cbor:"17,keyasint,omitempty"`
	Class     Class  `cbor:"18,keyasint,omitempty"`

	Override  string `cbor:"19,keyasint,omitempty"` // the operator's reason, for a manual override
	Overrides uint64 `cbor:"20,keyasint,omitempty"` // an override's: the sequence of the read whose decision it reverses
}

// WallTime returns Wall as a time.Time.
func (e *Event) WallTime() time.Time { return time.Unix(0, e.Wall).UTC() }

// eventFields has Event's fields without its methods, so that the CBOR
// encoder does not call MarshalBinary on itself.
type eventFields Event

// MarshalBinary encodes the event as deterministic CBOR.
func (e *Event) MarshalBinary() ([]byte, error) {
	b, err := encMode.Marshal((*eventFields)(e))
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes an event written by MarshalBinary. Unknown keys,
// duplicate keys and trailing bytes are errors.
func (e *Event) UnmarshalBinary(b []byte) error {
	var v eventFields
	if err := decMode.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	*e = Event(v)
	return nil
}
