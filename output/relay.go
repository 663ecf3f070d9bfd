package output

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// DefaultPulse is how long the relay holds the gate open.
const DefaultPulse = 500 * time.Millisecond

// RelayDrain bounds how long Close waits for a pulse under way to end.
const RelayDrain = 5 * time.Second

// relayRetry is how soon a failed write that ends a pulse is tried again.
const relayRetry = 100 * time.Millisecond

// Relay pulses a GPIO pin for each allowed decision. A new allow while the
// pulse is on extends it. A write that should end a pulse and fails (the
// GPIO line gave an I/O error) is logged and tried again every 100 ms
// until it works: the gate is not left open.
type Relay struct {
	// Logger receives the failures to shut the gate; nil means
	// slog.Default(). Set it before the first Act.
	Logger *slog.Logger

	pin       gpio.PinOut
	activeLow bool
	pulse     time.Duration
	drain     time.Duration // RelayDrain

	mu     sync.Mutex
	timer  *time.Timer
	gen    uint64    // the current pulse; a stale timer does not end a newer one
	until  time.Time // when the current pulse ends
	closed bool
}

// NewRelay drives pin (a real one from OpenRelay, or a fake in tests). The
// pin is set inactive at once.
func NewRelay(pin gpio.PinOut, activeLow bool, pulse time.Duration) (*Relay, error) {
	if pulse <= 0 {
		pulse = DefaultPulse
	}
	r := &Relay{pin: pin, activeLow: activeLow, pulse: pulse, drain: RelayDrain}
	if err := pin.Out(r.level(false)); err != nil {
		return nil, fmt.Errorf("relay %s: %w", pin, err)
	}
	return r, nil
}

// OpenRelay opens the GPIO pin by name (e.g. "GPIO17") through periph.io.
func OpenRelay(name string, activeLow bool, pulse time.Duration) (*Relay, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("relay: gpio: %w", err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("relay: no GPIO pin %q on this device", name)
	}
	return NewRelay(p, activeLow, pulse)
}

func (r *Relay) level(on bool) gpio.Level {
	return gpio.Level(on != r.activeLow)
}

// Name implements gate.Output.
func (r *Relay) Name() string { return "relay:" + r.pin.String() }

// Act implements gate.Output: it starts (or extends) the pulse for an
// allowed decision and returns.
func (r *Relay) Act(_ context.Context, o *gate.Outcome) error {
	if !o.Decision.Allow {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("relay %s: closed", r.pin)
	}
	if err := r.pin.Out(r.level(true)); err != nil {
		return fmt.Errorf("relay %s: %w", r.pin, err)
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.gen++
	gen := r.gen
	r.until = time.Now().Add(r.pulse)
	r.timer = time.AfterFunc(r.pulse, func() { r.end(gen, 0) })
	return nil
}

// end ends pulse gen, unless a newer pulse or Close took over; failed
// tries before this one.
func (r *Relay) end(gen uint64, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen || r.closed {
		return
	}
	if err := r.pin.Out(r.level(false)); err != nil {
		if failed == 0 {
			r.logger().Error("relay could not shut the gate; trying again every 100ms", "relay", r.pin.String(), "err", err)
		}
		r.timer = time.AfterFunc(relayRetry, func() { r.end(gen, failed+1) })
		return
	}
	if failed > 0 {
		r.logger().Info("relay shut the gate", "relay", r.pin.String(), "failed_tries", failed)
	}
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Close takes no more decisions, lets a pulse under way run its course
// (the holder of the last pass allowed gets through), and leaves the pin
// inactive, trying again every 100 ms when the write fails; all within
// RelayDrain (past it, the pulse is cut and one last write is tried). It
// returns the failure when the pin could not be made inactive.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	deadline := time.Now().Add(r.drain)
	left := time.Until(r.until)
	r.mu.Unlock()
	if left > 0 {
		time.Sleep(min(left, r.drain))
	}
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	// Closed, nothing else writes the pin: a timer that fired ends at once.
	for {
		err := r.pin.Out(r.level(false))
		if err == nil {
			return nil
		}
		if time.Until(deadline) < relayRetry {
			return fmt.Errorf("relay %s: could not shut the gate: %w", r.pin, err)
		}
		time.Sleep(relayRetry)
	}
}
