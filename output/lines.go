package output

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/checkpointgate/checkpoint/gate"
)

// JSONLines writes each decision as one line of JSON. A write that does
// not end within the bound Act is given (stdout into a pipe nobody reads)
// is left to end on its own; until it does, later lines are dropped and
// counted, so a stalled writer never holds up the gate.
type JSONLines struct {
	w    io.Writer
	busy chan struct{} // holds a token while a write is under way

	Dropped atomic.Int64
}

// NewJSONLines returns an output that writes to w.
func NewJSONLines(w io.Writer) *JSONLines {
	return &JSONLines{w: w, busy: make(chan struct{}, 1)}
}

// Name implements gate.Output.
func (j *JSONLines) Name() string { return "json-lines" }

// Act implements gate.Output.
func (j *JSONLines) Act(ctx context.Context, o *gate.Outcome) error {
	b, err := marshal(o)
	if err != nil {
		return err
	}
	select {
	case j.busy <- struct{}{}:
	default:
		j.Dropped.Add(1)
		return fmt.Errorf("line of decision %d dropped: the last line is still being written", o.Seq)
	}
	done := make(chan error, 1)
	go func() {
		_, err := j.w.Write(append(b, '\n'))
		<-j.busy
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("line of decision %d not written yet: %w", o.Seq, ctx.Err())
	}
}
