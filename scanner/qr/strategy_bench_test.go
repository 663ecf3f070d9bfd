package qr

import (
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkStrategyEmpty measures each strategy alone on a 640x480 frame
// without a code: what each costs a gate between visitors.
func BenchmarkStrategyEmpty(b *testing.B) {
	r := rand.New(rand.NewPCG(23, 24))
	frame := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range frame.Pix {
		frame.Pix[i] = uint8(100 + r.IntN(40))
	}
	for s := Strategy(1); s <= numStrategies; s++ {
		b.Run(s.String(), func(b *testing.B) {
			d := NewDecoder()
			d.strategies = []Strategy{s}
			for b.Loop() {
				if _, err := d.Decode(frame); err == nil {
					b.Fatal("found a code in noise")
				}
			}
		})
	}
}
