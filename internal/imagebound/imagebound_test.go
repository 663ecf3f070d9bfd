package imagebound

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/checkpointgate/checkpoint/internal/imagebound/imageboundtest"
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
	// The header's payload holds the bytes of a start of scan, which is
	// none.
	scans := func(n int) []byte {
		return append(jpegHeader(0xc0), []byte(strings.Repeat("\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", n))...)
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

// image/jpeg takes "\xff\x00" between segments for extraneous data and
// reads on at the next byte, as it skips bytes that are not a marker: a
// frame header after them is its frame header, and the length the bytes
// after "\xff\x00" would give does not skip it. Here they would skip to
// a baseline frame header in a comment's payload, which the decoder never
// reads, before the real, progressive one.
func TestProgressiveAfterExtraneousData(t *testing.T) {
	const side = 64
	plain := imageboundtest.ProgressiveJPEG(side, 3, 0)
	var data []byte
	data = append(data, plain[:2]...)                                         // SOI
	data = append(data, 0xff, 0x00, 0x00, 0x08)                               // extraneous, as if a segment of 8 bytes
	data = append(data, 0xff, 0xfe, 0x00, 0x0a, 0, 0, 0xff, 0xc0, 0, 0, 0, 0) // a comment, landed in
	data = append(data, plain[2:]...)
	c, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("image/jpeg does not read it: %v", err)
	}
	if got := Cost("jpeg", c.ColorModel, data); got != 15 {
		t.Errorf("Cost = %d, want 15, a progressive JPEG's", got)
	}
	if err := Check("jpeg", c, data, side); err == nil {
		t.Error("a progressive JPEG at the largest size, its frame header after extraneous data: read")
	}
}

// The bytes of a start of scan where image/jpeg reads no marker are no
// scan: in a segment's payload, in the coded data after a stuffed 0xff,
// and after the end of the image, where a phone's motion photo holds its
// video (megabytes, in which they stand every 64 KiB or so). The scans
// after a payload that holds the bytes of an end of image still count.
func TestScansImageJPEGReads(t *testing.T) {
	sos := "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
	many := strings.Repeat("\xff\xda", 2*MaxScans)
	for _, tt := range []struct {
		name string
		data string
		want int
	}{
		{"in a payload", "\xff\xd8\xff\xe1\x01\x92" + many + sos + "\xff\xd9", 1},
		{"in coded data", "\xff\xd8" + sos + strings.Repeat("\x12\xff\x00\xda", 2*MaxScans) + "\xff\xd0" + sos + "\xff\xd9", 2},
		{"after the image", "\xff\xd8" + sos + "\xff\xd9" + many, 1},
		{"an end of image in a payload", "\xff\xd8\xff\xe1\x00\x04\xff\xd9" + strings.Repeat(sos, MaxScans+1), MaxScans + 1},
		{"fill and extraneous data", "\xff\xd8\x00\x01\xff\xff" + sos + "\xff\x00" + sos, 2},
		{"cut short", "\xff\xd8" + sos + "\xff\xda\x00", 2},
	} {
		if got := scans([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: %d scans, want %d", tt.name, got, tt.want)
		}
	}
}

// A phone's motion photo, a JPEG with its video after the end of the
// image, is read: the bytes of a start of scan in the video are no scan.
func TestMotionPhotoRead(t *testing.T) {
	many := strings.Repeat("\xff\xda", 2*MaxScans)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	photo := append(buf.Bytes(), many...)
	c, err := jpeg.DecodeConfig(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	if err := Check("jpeg", c, photo, 64); err != nil {
		t.Errorf("a JPEG with data after the image: %v", err)
	}
}
