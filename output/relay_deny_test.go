package output

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// A deny moves nothing (docs/gate.md, "Outputs": an allow starts or
// extends the pulse): one decided while a pulse is under way, the next
// holder turned away as the last one walks through, leaves that pulse to
// run its whole course.
func TestRelayDenyLeavesThePulseUnderWay(t *testing.T) {
	pin := &livePin{Pin: gpiotest.Pin{N: "GPIO17"}}
	const pulse = 2 * time.Second
	r, err := NewRelay(pin, false, pulse)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Act(context.Background(), outcome(true)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := r.Act(context.Background(), outcome(false)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if level(&pin.Pin) != gpio.High {
		t.Fatal("a deny ended the pulse under way")
	}
	deadline := time.Now().Add(10 * time.Second)
	for level(&pin.Pin) != gpio.Low && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	pin.mu.Lock()
	held := pin.held
	pin.mu.Unlock()
	if held < pulse {
		t.Errorf("the gate was held open %v, want the whole %v pulse", held, pulse)
	}
}
