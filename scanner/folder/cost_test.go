package folder

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
	"github.com/checkpointgate/checkpoint/internal/imagebound/imageboundtest"
)

// Decoding costs more than the pixels show for a progressive JPEG (4
// bytes a sample of coefficients, besides the image) and an interlaced PNG
// (each pass an image of its own): a file of a few hundred kilobytes
// within MaxSide would take gigabytes. No image is read whose decoding
// would take more than the plain 16-bit RGBA PNG of MaxSide a side, the
// costliest image read at that size; nor a JPEG of more scans than
// imagebound.MaxScans, each of which goes over the whole image (a few
// bytes a scan would take hours).
func TestCostlyDecodesRefused(t *testing.T) {
	const side = 64
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a-progressive.jpg", imageboundtest.ProgressiveJPEG(side, 3, 0))
	write("b-interlaced.png", imageboundtest.InterlacedPNG(side))
	write("c-scans.jpg", imageboundtest.ProgressiveJPEG(8, 1, imagebound.MaxScans))
	write("d-progressive-smaller.jpg", imageboundtest.ProgressiveJPEG(side/2, 3, 9))
	write("e-interlaced-smaller.png", imageboundtest.InterlacedPNG(side/2))
	write("f-scans-fewer.jpg", imageboundtest.ProgressiveJPEG(8, 1, imagebound.MaxScans-1))
	writeJPEG(t, filepath.Join(dir, "g-baseline.jpg"), image.NewRGBA(image.Rect(0, 0, side, side)))
	writePNG(t, filepath.Join(dir, "h-rgba64.png"), image.NewNRGBA64(image.Rect(0, 0, side, side)))

	f, err := Open(Config{Path: dir, MaxSide: side})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var refused []string
	for range 20 {
		r, err := f.Next(context.Background())
		if errors.Is(err, ErrTooLarge) {
			refused = append(refused, err.Error())
			continue
		}
		if err != nil {
			break
		}
		names = append(names, r.Name)
	}
	if want := []string{"d-progressive-smaller.jpg", "e-interlaced-smaller.png", "f-scans-fewer.jpg", "g-baseline.jpg", "h-rgba64.png"}; !reflect.DeepEqual(names, want) {
		t.Errorf("read %q, want %q", names, want)
	}
	want := []string{
		"folder: a-progressive.jpg: image too large: 64x64 would take 61440 bytes to decode, over 36864",
		"folder: b-interlaced.png: image too large: 64x64 would take 69632 bytes to decode, over 36864",
		"folder: c-scans.jpg: image too large: a JPEG of 101 scans, over 100",
	}
	if !reflect.DeepEqual(refused, want) {
		t.Errorf("refused:\n%q\nwant\n%q", refused, want)
	}
}
