package output

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/checkpointgate/checkpoint/gate"
)

// JSONLines writes each decision as one line of JSON, one line at a time,
// in order. A line waits for the one before it only within the bound Act
// is given. A write that does not end within its bound (stdout into a
// pipe nobody reads) is left to end on its own and the writer counts as
// stuck: until that write ends, later lines are dropped at once and
// counted, so a stalled writer never holds up the gate.
type JSONLines struct {
	w     io.Writer
	busy  chan struct{}               // holds a token while a write is under way
	stuck atomic.Pointer[atomic.Bool] // the ended flag of a write that outlived its bound

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
	if j.stuck.Load() != nil {
		j.Dropped.Add(1)
		return fmt.Errorf("line of decision %d dropped: the writer is stuck", o.Seq)
	}
	select {
	case j.busy <- struct{}{}:
	case <-ctx.Done():
		j.Dropped.Add(1)
		return fmt.Errorf("line of decision %d dropped: %w", o.Seq, ctx.Err())
	}
	ended := new(atomic.Bool)
	done := make(chan error, 1)
	go func() {
		_, err := j.w.Write(append(b, '\n'))
		ended.Store(true)
		j.stuck.CompareAndSwap(ended, nil)
		<-j.busy
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// Only one write is under way at a time, but a later one may
		// have begun and been marked since this one ended.
		j.stuck.CompareAndSwap(nil, ended)
		if ended.Load() { // it ended meanwhile: not stuck after all
			j.stuck.CompareAndSwap(ended, nil)
		}
		return fmt.Errorf("line of decision %d not written yet: %w", o.Seq, ctx.Err())
	}
}
