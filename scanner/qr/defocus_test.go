package qr_test

import (
	"os"
	"testing"

	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/scanner/qr/camtest"
)

// TestRegridDefocusedAlignment reads, with Regrid alone, defocused
// frames of the side-by-side set (seed 1) whose three finder patterns
// gozxing finds and whose modules its binarizer keeps, but whose
// bottom-right alignment pattern its run-length search does not find
// (the blur thins the dark centre and ring), so the grid it samples
// without one misses the far corner by a module or more. Regrid
// matches the pattern module by module instead (matchAlignment). CI
// runs it natively (scripts/test.sh, test-native).
func TestRegridDefocusedAlignment(t *testing.T) {
	if raceEnabled || os.Getenv("CHECKPOINT_QEMU") == "1" || testing.Short() {
		t.Skip("slow under the race detector, qemu or -short")
	}
	want := map[int]bool{7: true, 9: true, 11: true}
	// The classes before defocus are generated too: a frame's random
	// stream depends on its class's position in the list.
	opt := camtest.Options{Seed: 1, PerClass: 12, Classes: camtest.Classes[:4]}
	n := 0
	err := camtest.Each(opt, func(c camtest.Case) error {
		if c.Name != "defocus" || !want[c.Index] {
			return nil
		}
		n++
		r, err := qr.NewDecoderWith(qr.Regrid).Decode(c.Frame)
		if err != nil {
			t.Errorf("defocus %d: %v", c.Index, err)
		} else if r.Text != c.Text {
			t.Errorf("defocus %d: misread %.20q…", c.Index, r.Text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("generated %d of the %d frames", n, len(want))
	}
}
