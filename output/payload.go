package output

import (
	"encoding/json"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
)

// Payload is the JSON form of a decision that hooks and JSON lines carry.
type Payload struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Trusted   bool      `json:"time_trusted"`
	Site      string    `json:"site"`
	Input     string    `json:"input"`
	Source    string    `json:"source,omitempty"` // the file or device read`
	Direction string    `json:"direction"`
	Allow     bool      `json:"allow"`
	Reason    string    `json:"reason"`
	Colour    string    `json:"colour"`           // the screen: green, yellow or red
	Status    string    `json:"status,omitempty"` // the pass's colour, once verified
	Flagged   bool      `json:"flagged"`
	Logged    bool      `json:"logged"`
	Override  bool      `json:"override,omitempty"`
	Overrides uint64    `json:"overrides,omitempty"` // an override's: the sequence of the read it reverses
}

// NewPayload makes the payload of an outcome.
func NewPayload(o *gate.Outcome) Payload {
	p := Payload{
		Seq: o.Seq, Time: o.At.Wall.UTC(), Trusted: o.At.Trusted, Site: o.Site, Input: o.Input, Source: o.Source,
		Direction: o.Direction.String(), Allow: o.Decision.Allow, Reason: string(o.Decision.Reason),
		Colour: o.Decision.Screen, Flagged: o.Decision.Flagged, Logged: o.Logged, Override: o.Override != "",
		Overrides: o.Overrides,
	}
	if o.Decision.Pass != nil {
		p.Status = o.Decision.Status.String()
	}
	return p
}

func marshal(o *gate.Outcome) ([]byte, error) {
	return json.Marshal(NewPayload(o))
}
