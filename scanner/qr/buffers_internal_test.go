package qr

import (
	"image"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The derived pictures are built in the Decoder's buffers, reused from
// frame to frame (docs/qr.md); DoubleSharp built its blur, the blur's
// sums and its sharpened picture in new memory on every frame: 5 MB a
// 640×480 frame, 60 times what any other strategy allocates, at 30
// frames a second.
func TestDoubleSharpReusesBuffers(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + r.IntN(40))
	}
	d := &Decoder{strategies: []Strategy{DoubleSharp}}
	d.Decode(img) // grows the buffers
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	d.Decode(img)
	runtime.ReadMemStats(&m1)
	if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
		t.Errorf("a %v call on a 640×480 frame allocated %d KB", DoubleSharp, n>>10)
	}
}
