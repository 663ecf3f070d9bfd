package scanner

import "fmt"

// Colour is a holder's health status: the colour a pass carries at issue
// and the colour a status list assigns to the pass's index.
type Colour uint8

// Colours, in the order the status list encodes them (2 bits each).
const (
	Green   Colour = 0
	Yellow  Colour = 1
	Red     Colour = 2
	Revoked Colour = 3 // only in a status list; never on a pass
)

var colourNames = [...]string{"green", "yellow", "red", "revoked"}

func (c Colour) String() string {
	if int(c) < len(colourNames) {
		return colourNames[c]
	}
	return fmt.Sprintf("colour(%d)", uint8(c))
}

// ParseColour is the inverse of Colour.String.
func ParseColour(s string) (Colour, error) {
	for i, n := range colourNames {
		if n == s {
			return Colour(i), nil
		}
	}
	return 0, fmt.Errorf("unknown colour %q (want green, yellow, red or revoked)", s)
}

// MarshalText implements encoding.TextMarshaler (for JSON and TOML).
func (c Colour) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Colour) UnmarshalText(b []byte) error {
	v, err := ParseColour(string(b))
	*c = v
	return err
}

// Class is the kind of holder a pass is for.
type Class uint8

// Pass classes.
const (
	Resident Class = 0
	Visitor  Class = 1
	Staff    Class = 2
)

var classNames = [...]string{"resident", "visitor", "staff"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// ParseClass is the inverse of Class.String.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if n == s {
			return Class(i), nil
		}
	}
	return 0, fmt.Errorf("unknown class %q (want resident, visitor or staff)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	*c = v
	return err
}

// Direction is the way a holder passes a gate.
type Direction uint8

// Directions.
const (
	Entry Direction = 0
	Exit  Direction = 1
)

func (d Direction) String() string {
	switch d {
	case Entry:
		return "entry"
	case Exit:
		return "exit"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ParseDirection is the inverse of Direction.String.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "entry":
		return Entry, nil
	case "exit":
		return Exit, nil
	}
	return 0, fmt.Errorf("unknown direction %q (want entry or exit)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Opposite returns the other direction.
func (d Direction) Opposite() Direction {
	if d == Entry {
		return Exit
	}
	return Entry
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Direction) UnmarshalText(b []byte) error {
	v, err := ParseDirection(string(b))
	*d = v
	return err
}

// Reason says why a decision came out as it did. Reasons are stable codes:
// they are logged, synced and shown, so never renumber or rename one.
type Reason string

// Reasons. ReasonOK is the reason of a plain allow.
const (
	ReasonOK           Reason = "ok"
	ReasonMalformed    Reason = "malformed"
	ReasonUnknownKey   Reason = "unknown_key"
	ReasonBadSignature Reason = "bad_signature"
	ReasonNotYetValid  Reason = "not_yet_valid"
	ReasonExpired      Reason = "expired"
	ReasonRevoked      Reason = "revoked"
	ReasonStatusRed    Reason = "status_red"
	ReasonStatusYellow Reason = "status_yellow"
	ReasonWrongSite    Reason = "wrong_site"
	ReasonClass        Reason = "class_not_allowed"
	ReasonAntiPassback Reason = "anti_passback"
	ReasonQuota        Reason = "household_quota"
	ReasonQuarantine   Reason = "in_quarantine"
	ReasonTrustTooOld  Reason = "trust_too_old"
	ReasonClockUnknown Reason = "clock_unknown"
	ReasonEmergency    Reason = "emergency"
	ReasonOverride     Reason = "override"
)
