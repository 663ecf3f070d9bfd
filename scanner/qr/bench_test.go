package qr_test

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// benchDecode decodes, again and again, a w×h camera-like frame holding a
// pass with modules of moduleSize pixels.
func benchDecode(b *testing.B, w, h, moduleSize int) {
	r := rand.New(rand.NewPCG(21, 22))
	text := qr.RandomPass(r)
	frame := cameraFrame(b, r, text, w, h, moduleSize, 1)
	d := qr.NewDecoder()
	b.SetBytes(int64(w * h))
	for b.Loop() {
		res, err := d.Decode(frame)
		if err != nil || res.Text != text {
			b.Fatalf("Decode = %q, %v", res.Text, err)
		}
	}
}

func BenchmarkDecode640x480(b *testing.B)  { benchDecode(b, 640, 480, 4) }
func BenchmarkDecode1280x720(b *testing.B) { benchDecode(b, 1280, 720, 6) }

// BenchmarkDecodeEmpty640x480 decodes a frame without a code: the common
// case at a gate between visitors. With every fallback (all) that costs
// every strategy; with Fallbacks set, the first strategy and that many
// more; with a Budget, what fits in it.
func BenchmarkDecodeEmpty640x480(b *testing.B) {
	r := rand.New(rand.NewPCG(23, 24))
	frame := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range frame.Pix {
		frame.Pix[i] = uint8(100 + r.IntN(40))
	}
	for _, fallbacks := range []int{0, 1, 2} {
		name := "all"
		if fallbacks > 0 {
			name = fmt.Sprintf("fallbacks=%d", fallbacks)
		}
		b.Run(name, func(b *testing.B) {
			d := qr.NewDecoder()
			d.Fallbacks = fallbacks
			b.SetBytes(int64(len(frame.Pix)))
			for b.Loop() {
				if _, err := d.Decode(frame); err == nil {
					b.Fatal("found a code in noise")
				}
			}
		})
	}
	b.Run("budget=20ms", func(b *testing.B) {
		d := &qr.Decoder{Budget: 20 * time.Millisecond}
		b.SetBytes(int64(len(frame.Pix)))
		for b.Loop() {
			if _, err := d.Decode(frame); err == nil {
				b.Fatal("found a code in noise")
			}
		}
	})
}

// BenchmarkEncode renders and verifies a typical pass.
func BenchmarkEncode(b *testing.B) {
	text := qr.RandomPass(rand.New(rand.NewPCG(25, 26)))
	for b.Loop() {
		if _, err := qr.Encode(text, qr.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
