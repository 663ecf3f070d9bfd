package output

import (
	"context"
	"io"
	"sync"

	"github.com/checkpointgate/checkpoint/gate"
)

// JSONLines writes each decision as one line of JSON.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines returns an output that writes to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Name implements gate.Output.
func (j *JSONLines) Name() string { return "json-lines" }

// Act implements gate.Output.
func (j *JSONLines) Act(_ context.Context, o *gate.Outcome) error {
	b, err := marshal(o)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err = j.w.Write(append(b, '\n'))
	return err
}
