package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errClosed = errors.New("closed")

func TestSleepAndCheck(t *testing.T) {
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := Check(ctx, done, errClosed); err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := Sleep(ctx, done, time.Millisecond, errClosed); err != nil {
		t.Fatalf("a sleep that ran out: %v", err)
	}
	cancel()
	if err := Sleep(ctx, done, time.Hour, errClosed); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := Check(ctx, done, errClosed); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	close(done)
	if err := Sleep(context.Background(), done, time.Hour, errClosed); err != errClosed {
		t.Fatalf("closed: %v", err)
	}
	if err := Check(ctx, done, errClosed); err != errClosed {
		t.Fatalf("closed and cancelled: %v", err)
	}
}
