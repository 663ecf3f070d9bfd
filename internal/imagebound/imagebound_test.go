package imagebound

import (
	"encoding/binary"
	"image"
	"image/color"
	"strings"
	"testing"
)

// jpegHeader is the start of a JPEG up to its frame header: an APP0
// segment holding the bytes of other markers, fill bytes, then the frame
// header sof (0xc0, 0xc1 or 0xc2).
func jpegHeader(sof byte) []byte {
	return []byte{0xff, 0xd8, 0xff, 0xe0, 0, 6, 0xff, 0xc2, 0xff, 0xda, 0xff, 0xff, sof, 0, 8, 8, 0, 8, 0, 8, 1}
}

// pngHeader is the start of a PNG up to its IHDR: 16-bit RGBA, interlaced
// or not.
func pngHeader(interlaced byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint32(b, 8)
	return append(b, 16, 6, 0, 0, interlaced, 0, 0, 0, 0)
}

func TestCost(t *testing.T) {
	palette := color.Palette{color.Black, color.White}
	for _, tt := range []struct {
		name   string
		format string
		model  color.Model
		data   []byte
		want   int64
	}{
		{"baseline gray", "jpeg", color.GrayModel, jpegHeader(0xc0), 1},
		{"extended YCbCr", "jpeg", color.YCbCrModel, jpegHeader(0xc1), 3},
		{"baseline RGB", "jpeg", color.RGBAModel, jpegHeader(0xc0), 8},
		{"baseline CMYK", "jpeg", color.CMYKModel, jpegHeader(0xc0), 9},
		{"progressive gray", "jpeg", color.GrayModel, jpegHeader(0xc2), 5},
		{"progressive YCbCr", "jpeg", color.YCbCrModel, jpegHeader(0xc2), 15},
		{"progressive CMYK", "jpeg", color.CMYKModel, jpegHeader(0xc2), 25},
		{"no frame header", "jpeg", color.YCbCrModel, jpegHeader(0x00)[:8], 15},
		{"lossless frame", "jpeg", color.YCbCrModel, jpegHeader(0xc3), 15},
		{"16-bit RGBA", "png", color.NRGBA64Model, pngHeader(0), 9},
		{"16-bit RGBA interlaced", "png", color.NRGBA64Model, pngHeader(1), 17},
		{"gray, maybe with tRNS", "png", color.GrayModel, pngHeader(0), 5},
		{"16-bit gray", "png", color.Gray16Model, pngHeader(0), 9},
		{"paletted", "png", palette, pngHeader(0), 2},
		{"paletted interlaced", "png", palette, pngHeader(1), 3},
		{"another format", "gif", palette, nil, MaxCost},
	} {
		if got := Cost(tt.format, tt.model, tt.data); got != tt.want {
			t.Errorf("%s: Cost = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	cfg := func(m color.Model, side int) image.Config {
		return image.Config{ColorModel: m, Width: side, Height: side}
	}
	// The costliest image at the largest size is read; a progressive
	// JPEG of the same size is not, one of at most 9/15 the pixels is.
	if err := Check("png", cfg(color.NRGBA64Model, 100), pngHeader(0), 100); err != nil {
		t.Errorf("16-bit RGBA PNG at the largest size: %v", err)
	}
	if err := Check("jpeg", cfg(color.YCbCrModel, 100), jpegHeader(0xc2), 100); err == nil || err.Error() != "100x100 would take 150000 bytes to decode, over 90000" {
		t.Errorf("progressive JPEG at the largest size: %v", err)
	}
	if err := Check("jpeg", cfg(color.YCbCrModel, 77), jpegHeader(0xc2), 100); err != nil {
		t.Errorf("progressive JPEG of 77x77: %v", err)
	}
	// The header holds the bytes of one start of scan already.
	scans := func(n int) []byte {
		return append(jpegHeader(0xc0), []byte(strings.Repeat("\xff\xda", n-1))...)
	}
	if err := Check("jpeg", cfg(color.GrayModel, 8), scans(MaxScans), 100); err != nil {
		t.Errorf("%d scans: %v", MaxScans, err)
	}
	if err := Check("jpeg", cfg(color.GrayModel, 8), scans(MaxScans+1), 100); err == nil || err.Error() != "a JPEG of 101 scans, over 100" {
		t.Errorf("%d scans: %v", MaxScans+1, err)
	}
	// In a PNG, those bytes mean nothing.
	if err := Check("png", cfg(color.GrayModel, 8), append(pngHeader(0), scans(MaxScans+1)...), 100); err != nil {
		t.Errorf("a PNG: %v", err)
	}
}
