package wait

import (
	"context"
	"time"
)

// Check returns closed once done is closed, else ctx.Err().
func Check(ctx context.Context, done <-chan struct{}, closed error) error {
	select {
	case <-done:
		return closed
	default:
	}
	return ctx.Err()
}

// Sleep waits d. It returns early with ctx.Err() when ctx ends, or with
// closed when done is closed.
func Sleep(ctx context.Context, done <-chan struct{}, d time.Duration, closed error) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return closed
	}
}
