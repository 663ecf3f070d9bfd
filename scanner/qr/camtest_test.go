package qr_test

import (
	"os"
	"testing"

	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/scanner/qr/camtest"
)

// camtestMin is the least number of frames, of camtestPerClass in each
// class of camtest's set with seed camtestSeed, that a Decoder with no
// Budget must read. Each is a frame or two under what the decoder reads
// today (docs/qr.md), so that a change that loses codes fails here.
var camtestMin = map[string]int{
	"rotation":    9, // reads 10
	"perspective": 6, // reads 7
	"scale":       7, // reads 8
	"defocus":     5, // reads 6
	"motion":      7, // reads 8
	"noise":       8, // reads 9
	"lowlight":    5, // reads 6
	"uneven":      8, // reads 9
	"glare":       9, // reads 10
	"screen":      8, // reads 9
	"jpeg":        9, // reads 10
}

const (
	camtestSeed     = 7
	camtestPerClass = 10
)

// TestCamtest decodes a sample of camera-like frames from every
// distortion class and checks the number read per class and that no
// frame reads as anything but its own text. It runs natively only: under
// the race detector or qemu it would take minutes.
func TestCamtest(t *testing.T) {
	if raceEnabled || os.Getenv("CHECKPOINT_QEMU") == "1" || testing.Short() {
		t.Skip("slow under the race detector, qemu or -short")
	}
	got := map[string]int{}
	d := qr.NewDecoder()
	err := camtest.Each(camtest.Options{Seed: camtestSeed, PerClass: camtestPerClass}, func(c camtest.Case) error {
		r, err := d.Decode(c.Frame)
		switch {
		case err == nil && r.Text == c.Text:
			got[c.Name]++
		case err == nil:
			t.Errorf("%s %d: misread: %.20q…, want %.20q…", c.Name, c.Index, r.Text, c.Text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range camtest.Classes {
		t.Logf("%-12s %d/%d", class, got[class], camtestPerClass)
		if got[class] < camtestMin[class] {
			t.Errorf("%s: read %d of %d frames, want at least %d", class, got[class], camtestPerClass, camtestMin[class])
		}
	}
}
