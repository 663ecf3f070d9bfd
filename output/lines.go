package output

import (
	"context"
	"fmt"
	"io"
	"sync"
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
	w    io.Writer
	busy chan struct{} // holds a token while a write is under way

	// Writes are numbered as they begin, one at a time.
	mu    sync.Mutex
	begun uint64 // the last write begun
	ended uint64 // the last write ended
	stuck uint64 // a write that outlived its bound and has not ended; 0: none

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
	j.mu.Lock()
	stuck := j.stuck != 0
	j.mu.Unlock()
	if stuck {
		j.Dropped.Add(1)
		return fmt.Errorf("line of decision %d dropped: the writer is stuck", o.Seq)
	}
	select {
	case j.busy <- struct{}{}:
	case <-ctx.Done():
		j.Dropped.Add(1)
		return fmt.Errorf("line of decision %d dropped: %w", o.Seq, ctx.Err())
	}
	j.mu.Lock()
	j.begun++
	n := j.begun
	j.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := j.w.Write(append(b, '\n'))
		j.mu.Lock()
		j.ended = n
		if j.stuck == n {
			j.stuck = 0
		}
		j.mu.Unlock()
		<-j.busy
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		j.mu.Lock()
		if j.ended < n { // still under way: stuck until it ends
			j.stuck = n
		}
		j.mu.Unlock()
		return fmt.Errorf("line of decision %d not written yet: %w", o.Seq, ctx.Err())
	}
}
