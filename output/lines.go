package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
)

// JSONLines writes each decision as one line of JSON, one line at a time,
// in order. A line waits for the one before it only within the bound Act
// is given. A write that does not end within its bound (stdout into a
// pipe nobody reads) is left to end on its own and the writer counts as
// stuck: until that write ends, later lines are dropped at once and
// counted, so a stalled writer never holds up the gate.
type JSONLines struct{ bounded }

// NewJSONLines returns an output that writes to w.
func NewJSONLines(w io.Writer) *JSONLines {
	return &JSONLines{newBounded(w)}
}

// Name implements gate.Output.
func (j *JSONLines) Name() string { return "json-lines" }

// Act implements gate.Output.
func (j *JSONLines) Act(ctx context.Context, o *gate.Outcome) error {
	b, err := marshal(o)
	if err != nil {
		return err
	}
	if err := j.write(ctx, append(b, '\n')); err != nil {
		return fmt.Errorf("line of decision %d %w", o.Seq, err)
	}
	return nil
}

// LogWriter is the daemon's log stream (stderr) written as JSONLines
// writes stdout: each write waits at most its bound, and while a write
// that outlived it is under way later ones are dropped at once and
// counted. Standard error is often standard output's pipe (2>&1, a
// supervisor that takes both), and the gate logs each line it could not
// write there: a log that waited on that pipe would stop the gate.
type LogWriter struct {
	bounded
	bound time.Duration
}

// NewLogWriter returns a LogWriter to w whose writes wait at most bound.
func NewLogWriter(w io.Writer, bound time.Duration) *LogWriter {
	return &LogWriter{newBounded(w), bound}
}

// Write implements io.Writer. p is copied: the write may outlive the call.
func (l *LogWriter) Write(p []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.bound)
	defer cancel()
	if err := l.write(ctx, bytes.Clone(p)); err != nil {
		return 0, fmt.Errorf("log line %w", err)
	}
	return len(p), nil
}

// bounded writes to w one write at a time, in order, each waiting at most
// until its context ends; one that has not ended by then is left to end
// on its own, and until it does the writer is stuck: later writes are
// dropped at once and counted.
type bounded struct {
	w    io.Writer
	busy chan struct{} // holds a token while a write is under way

	// Writes are numbered as they begin, one at a time.
	mu    sync.Mutex
	begun uint64 // the last write begun
	ended uint64 // the last write ended
	stuck uint64 // a write that outlived its bound and has not ended; 0: none

	Dropped atomic.Int64
}

func newBounded(w io.Writer) bounded {
	return bounded{w: w, busy: make(chan struct{}, 1)}
}

var errStuck = errors.New("the writer is stuck")

// write writes b, which it owns from now on, within ctx.
func (j *bounded) write(ctx context.Context, b []byte) error {
	j.mu.Lock()
	stuck := j.stuck != 0
	j.mu.Unlock()
	if stuck {
		j.Dropped.Add(1)
		return fmt.Errorf("dropped: %w", errStuck)
	}
	select {
	case j.busy <- struct{}{}:
	case <-ctx.Done():
		j.Dropped.Add(1)
		return fmt.Errorf("dropped: %w", ctx.Err())
	}
	j.mu.Lock()
	j.begun++
	n := j.begun
	j.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := j.w.Write(b)
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
		return fmt.Errorf("not written yet: %w", ctx.Err())
	}
}
