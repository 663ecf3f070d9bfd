package qr

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing/common"
)

// perspectiveFrame draws code (a rendering with one pixel a module and a
// 4-module quiet zone) into a w×h frame with the symbol's corners
// (top-left, top-right, bottom-right, bottom-left) at quad, 2×2
// supersampled, on a mid-grey background.
func perspectiveFrame(code *image.Gray, quad [4][2]float64, w, h int) *image.Gray {
	n := float64(code.Rect.Dx() - 8)
	// Frame to module positions.
	t := common.PerspectiveTransform_QuadrilateralToQuadrilateral(
		quad[0][0], quad[0][1], quad[1][0], quad[1][1], quad[2][0], quad[2][1], quad[3][0], quad[3][1],
		0, 0, n, 0, n, n, 0, n)
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sum := 0
			for _, o := range [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
				p := []float64{float64(x) + o[0], float64(y) + o[1]}
				t.TransformPoints(p)
				u, v := int(p[0]+4+100)-100, int(p[1]+4+100)-100
				switch {
				case u >= 0 && v >= 0 && u < code.Rect.Dx() && v < code.Rect.Dy():
					sum += int(code.Pix[v*code.Stride+u])*3/4 + 30
				default:
					sum += 110
				}
			}
			img.Pix[y*img.Stride+x] = uint8(sum / 4)
		}
	}
	return img
}

// TestRegridStrongPerspective decodes, with the regrid strategy alone,
// clean codes whose corners are each moved by up to 22% of the symbol's
// side (camtest's perspective class, without blur or noise). The
// bottom-right alignment pattern is then often far from where the three
// finder patterns put it, and another blob is found there; regrid finds
// it by steps, from the alignment patterns nearer the finders. It reads
// 18 of the 40 (7 before the steps and the per-leg version estimate).
func TestRegridStrongPerspective(t *testing.T) {
	const frames, least = 40, 16
	r := rand.New(rand.NewPCG(5, 6))
	read := 0
	for range frames {
		text := randomPass(r)
		code, err := Encode(text, Options{ModuleSize: 1, QuietZone: 4})
		if err != nil {
			t.Fatal(err)
		}
		const side = 260.0
		var q [4][2]float64
		for k, c := range [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
			q[k] = [2]float64{
				320 + c[0]*side/2 + (r.Float64()*2-1)*0.22*side,
				240 + c[1]*side/2 + (r.Float64()*2-1)*0.22*side,
			}
		}
		d := NewDecoder()
		d.strategies = []Strategy{Regrid}
		res, err := d.Decode(perspectiveFrame(code, q, 640, 480))
		switch {
		case err == nil && res.Text == text:
			read++
		case err == nil:
			t.Errorf("misread %.20q…, want %.20q…", res.Text, text)
		}
	}
	t.Logf("read %d of %d", read, frames)
	if read < least {
		t.Errorf("read %d of %d, want at least %d", read, frames, least)
	}
}

// Points are the bottom-left, top-left and top-right finder patterns'
// centres. For a mirrored code gozxing's reader (Hybrid) and decodeMulti
// swap the first and third, as the decoder's metadata says; regrid, the
// first strategy, returned them unswapped.
func TestRegridPointsOfMirroredCode(t *testing.T) {
	text := randomPass(rand.New(rand.NewPCG(5, 6)))
	code, err := Encode(text, Options{ModuleSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	w := code.Rect.Dx()
	mirrored := image.NewGray(code.Rect)
	for y := range w {
		for x := range w {
			mirrored.Pix[y*mirrored.Stride+x] = code.Pix[y*code.Stride+w-1-x]
		}
	}
	want, err := (&Decoder{strategies: []Strategy{Hybrid}}).Decode(mirrored)
	if err != nil || want.Text != text {
		t.Fatalf("control: Hybrid read %q, %v", want.Text, err)
	}
	for _, s := range []Strategy{Regrid, Multi} {
		got, err := (&Decoder{strategies: []Strategy{s}}).Decode(mirrored)
		if err != nil || got.Text != text {
			t.Fatalf("%v read %q, %v", s, got.Text, err)
		}
		for i := range 3 {
			if d := got.Points[i].Sub(want.Points[i]); max(abs(d.X), abs(d.Y)) > 4 {
				t.Errorf("%v: points %v, want %v as %v gives them", s, got.Points[:3], want.Points[:3], Hybrid)
				break
			}
		}
	}
}
