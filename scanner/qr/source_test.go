package qr

import (
	"bytes"
	"image"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// testGray returns a w×h image whose pixel (x, y) is x + 10*y (mod 256),
// as a sub-image of a larger one, so that its Rect is off the origin and
// its Stride exceeds its width.
func testGray(w, h int) *image.Gray {
	big := image.NewGray(image.Rect(-3, -2, w+5, h+4))
	for y := range h {
		for x := range w {
			big.Pix[big.PixOffset(x, y)] = uint8(x + 10*y)
		}
	}
	return big.SubImage(image.Rect(0, 0, w, h)).(*image.Gray)
}

func TestGraySource(t *testing.T) {
	sub := testGray(7, 5)
	shifted := image.NewGray(image.Rect(100, 200, 107, 205))
	for y := range 5 {
		for x := range 7 {
			shifted.Pix[y*shifted.Stride+x] = uint8(x + 10*y)
		}
	}
	for name, img := range map[string]*image.Gray{"strided": sub, "shifted": shifted} {
		t.Run(name, func(t *testing.T) {
			s, err := newGraySource(img)
			if err != nil {
				t.Fatal(err)
			}
			if s.GetWidth() != 7 || s.GetHeight() != 5 {
				t.Fatalf("size %dx%d, want 7x5", s.GetWidth(), s.GetHeight())
			}
			checkSource(t, s, 7, 5, func(x, y int) uint8 { return uint8(x + 10*y) })

			crop, err := s.Crop(2, 1, 4, 3)
			if err != nil {
				t.Fatal(err)
			}
			checkSource(t, crop, 4, 3, func(x, y int) uint8 { return uint8(x + 2 + 10*(y+1)) })

			inv := crop.Invert()
			checkSource(t, inv, 4, 3, func(x, y int) uint8 { return 255 - uint8(x+2+10*(y+1)) })
			checkSource(t, inv.Invert(), 4, 3, func(x, y int) uint8 { return uint8(x + 2 + 10*(y+1)) })

			rot, err := crop.RotateCounterClockwise()
			if err != nil {
				t.Fatal(err)
			}
			// Turned counter-clockwise: the new (x, y) was (w-1-y, x).
			checkSource(t, rot, 3, 4, func(x, y int) uint8 { return uint8(3 - y + 2 + 10*(x+1)) })

			if _, err := s.Crop(5, 0, 3, 1); err == nil {
				t.Error("crop past the right edge succeeded")
			}
			if _, err := s.GetRow(5, nil); err == nil {
				t.Error("GetRow past the last row succeeded")
			}
			if _, err := s.RotateCounterClockwise45(); err == nil {
				t.Error("45° rotation succeeded")
			}
		})
	}
}

func checkSource(t *testing.T, s gozxing.LuminanceSource, w, h int, want func(x, y int) uint8) {
	t.Helper()
	if s.GetWidth() != w || s.GetHeight() != h {
		t.Fatalf("size %dx%d, want %dx%d", s.GetWidth(), s.GetHeight(), w, h)
	}
	m := s.GetMatrix()
	if len(m) < w*h {
		t.Fatalf("matrix of %d bytes, want %d", len(m), w*h)
	}
	for y := range h {
		row, err := s.GetRow(y, make([]byte, 2))
		if err != nil {
			t.Fatal(err)
		}
		for x := range w {
			if row[x] != want(x, y) || m[y*w+x] != want(x, y) {
				t.Fatalf("(%d,%d): row %d, matrix %d, want %d", x, y, row[x], m[y*w+x], want(x, y))
			}
		}
	}
}

// TestGraySourceSharesPixels checks that a frame whose rows are contiguous
// is handed to gozxing without a copy.
func TestGraySourceSharesPixels(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	s, err := newGraySource(img)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.GetMatrix(); &m[0] != &img.Pix[0] || len(m) != len(img.Pix) {
		t.Error("GetMatrix copied a contiguous frame")
	}
	// A crop of full rows is contiguous too.
	c, _ := s.Crop(0, 10, 64, 5)
	if m := c.GetMatrix(); &m[0] != &img.Pix[10*64] {
		t.Error("GetMatrix copied a crop of full rows")
	}
	// GetRow copies, so gozxing's in-place inversion cannot touch the frame.
	row, _ := s.GetRow(3, nil)
	row[0] = 99
	if img.Pix[3*64] != 0 {
		t.Error("writing GetRow's result changed the frame")
	}
	inv := gozxing.NewInvertedLuminanceSource(s)
	if _, err := inv.GetRow(3, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.Pix, make([]byte, len(img.Pix))) {
		t.Error("gozxing's inverted source changed the frame")
	}
}
