//go:build gpiodevice

package output

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestRealRelay pulses a real GPIO pin: run on the gate device with
//
//	CHECKPOINT_RELAY_PIN=GPIO17 go test -tags gpiodevice -run TestRealRelay ./output
func TestRealRelay(t *testing.T) {
	name := os.Getenv("CHECKPOINT_RELAY_PIN")
	if name == "" {
		name = "GPIO17"
	}
	r, err := OpenRelay(name, false, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Act(context.Background(), outcome(true)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
}
