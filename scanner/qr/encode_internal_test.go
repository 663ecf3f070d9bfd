package qr

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// rerendered are indexes, in the stream of randomPass texts from the seed
// TestMeasure uses, of texts whose first rendering fails verification:
// Encode verifies 2 renderings for texts 56 and 68, and 3 for text 65.
var rerendered = map[int]int{56: 2, 65: 3, 68: 2}

// TestEncodeRerenders checks texts whose first rendering (gozxing's own
// choice of mask) fails verification: Encode must replace it with one that
// verifies, and Decode, with its fallbacks, must read the rejected
// rendering anyway.
func TestEncodeRerenders(t *testing.T) {
	r := rand.New(rand.NewPCG(2020, 14))
	for i := 0; i <= 68; i++ {
		text := randomPass(r)
		want, ok := rerendered[i]
		if !ok {
			continue
		}
		img, tries, err := encode(text, Options{})
		if err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		if tries != want {
			t.Errorf("text %d: %d renderings verified, want %d", i, tries, want)
		}
		if !newVerifier().allOrientations(img, text) {
			t.Errorf("text %d: the re-rendered code does not verify", i)
		}
		first, err := encoder.Encoder_encode(text, decoder.ErrorCorrectionLevel_M, nil)
		if err != nil {
			t.Fatal(err)
		}
		firstImg, err := render(first, 0, minQuietZone)
		if err != nil {
			t.Fatal(err)
		}
		if newVerifier().ok(first, firstImg, minQuietZone, text) {
			t.Errorf("text %d: the first rendering verifies, yet Encode re-rendered", i)
		}
		res, err := NewDecoder().Decode(firstImg)
		if err != nil || res.Text != text {
			t.Errorf("text %d: Decode of the first rendering = %q, %v", i, res.Text, err)
		}
	}
}

// TestPureReadsEveryOrientation checks that the pure strategy alone reads
// a clean rendering turned any way.
func TestPureReadsEveryOrientation(t *testing.T) {
	text := randomPass(rand.New(rand.NewPCG(27, 28)))
	img, err := Encode(text, Options{ModuleSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	d.strategies = []Strategy{HybridPure}
	for turn := range 4 {
		res, err := d.Decode(img)
		if err != nil || res.Text != text {
			t.Errorf("turned %d°: Decode = %q, %v", 90*turn, res.Text, err)
		}
		img = rotate90(img)
	}
}
