package camera

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
	"github.com/checkpointgate/checkpoint/internal/imagebound/imageboundtest"
)

// testJPEG encodes a colour image whose luma varies across it.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(3 * y), uint8(x + y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stripDHT removes every DHT segment before the first scan, as a UVC
// camera's MJPEG frame has none.
func stripDHT(t testing.TB, b []byte) []byte {
	t.Helper()
	out := append([]byte(nil), b[:2]...)
	i := 2
	for i+4 <= len(b) && b[i] == 0xff && b[i+1] != markerSOS {
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if b[i+1] != markerDHT {
			out = append(out, b[i:i+2+n]...)
		}
		i += 2 + n
	}
	out = append(out, b[i:]...)
	if sos := bytes.Index(out, []byte{0xff, markerSOS}); sos < 0 || bytes.Contains(out[:sos], []byte{0xff, markerDHT}) {
		t.Fatal("stripDHT left a DHT segment")
	}
	return out
}

// The standard tables are those image/jpeg writes.
func TestDHTIsTheStandardOne(t *testing.T) {
	b := testJPEG(t, 16, 16)
	i := bytes.Index(b, []byte{0xff, markerDHT})
	if i < 0 {
		t.Fatal("image/jpeg wrote no DHT")
	}
	n := int(binary.BigEndian.Uint16(b[i+2:]))
	if got := b[i : i+2+n]; !bytes.Equal(got, dhtSegment) {
		t.Errorf("dhtSegment differs from the tables image/jpeg writes:\n got %x\nwant %x", dhtSegment, got)
	}
}

func TestMJPEGWithoutHuffmanTables(t *testing.T) {
	full := testJPEG(t, 64, 48)
	stripped := stripDHT(t, full)
	if _, err := jpeg.Decode(bytes.NewReader(stripped)); err == nil {
		t.Fatal("image/jpeg decoded a frame without Huffman tables; the test proves nothing")
	}
	want, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	wantY := want.(*image.YCbCr)
	m := mode{format: fmtMJPG, width: 64, height: 48}
	for name, frame := range map[string][]byte{"with tables": full, "without tables": stripped} {
		var fb frameBuffer
		if err := fb.copyFrame(m, frame); err != nil {
			t.Fatalf("%s: copy: %v", name, err)
		}
		for i := range frame {
			frame[i] = 0 // the device reuses its buffer
		}
		g, err := fb.finish(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.Rect != image.Rect(0, 0, 64, 48) {
			t.Fatalf("%s: rect %v", name, g.Rect)
		}
		for y := range 48 {
			for x := range 64 {
				if g.GrayAt(x, y).Y != wantY.Y[wantY.YOffset(x, y)] {
					t.Fatalf("%s: luma differs at %d,%d", name, x, y)
				}
			}
		}
	}
}

func TestMJPEGGarbage(t *testing.T) {
	full := testJPEG(t, 32, 32)
	m := mode{format: fmtMJPG, width: 32, height: 32}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"not jpeg":      []byte("hello, world"),
		"soi only":      {0xff, 0xd8},
		"cut headers":   full[:20],
		"cut scan":      full[:len(full)/2],
		"bad length":    {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xda},
		"eoi":           {0xff, 0xd8, 0xff, 0xd9},
		"huge declared": {0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xff, 0xff, 0xff, 0xff, 1, 1, 0x11, 0},
	} {
		var fb frameBuffer
		err := fb.copyFrame(m, b)
		if err == nil {
			_, err = fb.finish(m)
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A frame costlier to decode than its size shows, as only a broken or
// hostile device would send, is refused like the folder's images: here a
// JPEG of more scans than imagebound.MaxScans, each over the whole frame.
// One of as many scans as an encoder writes is read.
func TestMJPEGCostly(t *testing.T) {
	m := mode{format: fmtMJPG, width: 32, height: 32}
	for _, tt := range []struct {
		scans int
		ok    bool
	}{{10, true}, {imagebound.MaxScans + 1, false}} {
		var fb frameBuffer
		err := fb.copyFrame(m, imageboundtest.ProgressiveJPEG(32, 1, tt.scans-1))
		if err == nil {
			_, err = fb.finish(m)
		}
		if (err == nil) != tt.ok {
			t.Errorf("a JPEG of %d scans: %v", tt.scans, err)
		}
	}
}

func TestPackedStride(t *testing.T) {
	for _, c := range []struct {
		n, row, h, stride int
		ok                bool
	}{
		{1280 * 480, 1280, 480, 1280, true},
		{1344 * 480, 1280, 480, 1344, true}, // rows aligned to 64
		{1280*480 - 1, 1280, 480, 0, false},
		{2560 * 480, 1280, 480, 0, false}, // twice as wide: another size
		{1280*480 + 7, 1280, 480, 0, false},
		{0, 1280, 480, 0, false},
	} {
		stride, err := packedStride(c.n, c.row, c.h)
		if (err == nil) != c.ok || stride != c.stride {
			t.Errorf("packedStride(%d, %d, %d) = %d, %v", c.n, c.row, c.h, stride, err)
		}
	}
}

func TestFourcc(t *testing.T) {
	if fmtYUYV != 0x56595559 || fmtMJPG.String() != "MJPG" || pixelFormat(0x01020304).String() != "0x01020304" {
		t.Errorf("fourcc: %x %v", uint32(fmtYUYV), fmtMJPG)
	}
}

// No bytes from a device make the frame code panic, and a frame it
// returns has the size it says.
func FuzzFrame(f *testing.F) {
	f.Add(uint8(0), uint8(8), uint8(4), []byte{1, 2, 3})
	f.Add(uint8(2), uint8(16), uint8(16), testJPEG(f, 16, 16))
	f.Add(uint8(2), uint8(16), uint8(16), stripDHT(f, testJPEG(f, 16, 16)))
	f.Add(uint8(1), uint8(3), uint8(3), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, format, w, h uint8, b []byte) {
		m := mode{format: []pixelFormat{fmtYUYV, fmtGREY, fmtMJPG, fourcc("H264")}[format%4], width: int(w), height: int(h)}
		var fb frameBuffer
		if err := fb.copyFrame(m, b); err != nil {
			return
		}
		g, err := fb.finish(m)
		if err != nil {
			return
		}
		if n := g.Rect.Dx() * g.Rect.Dy(); n <= 0 || len(g.Pix) < (g.Rect.Dy()-1)*g.Stride+g.Rect.Dx() {
			t.Fatalf("frame %v with stride %d and %d bytes", g.Rect, g.Stride, len(g.Pix))
		}
	})
}

// A frame of another size than negotiated is dropped as bad
// (docs/inputs.md), an MJPEG frame too: one far larger than the mode set
// (here 640x480 on a 64x48 mode; up to 4096x4096 on any mode) would cost
// the decoder what the mode does not show.
func TestMJPEGOfAnotherSizeIsBad(t *testing.T) {
	m := mode{format: fmtMJPG, width: 64, height: 48}
	var fb frameBuffer
	if err := fb.copyFrame(m, testJPEG(t, 640, 480)); err != nil {
		t.Fatal(err)
	}
	g, err := fb.finish(m)
	if err == nil {
		t.Fatalf("a %v frame on a %v mode was handed on", g.Rect.Size(), m)
	}
	// A side rounded up to the encoder's 16-pixel blocks is the mode's.
	if err := fb.copyFrame(m, testJPEG(t, 64, 64)); err != nil {
		t.Fatal(err)
	}
	if g, err := fb.finish(m); err != nil || g.Rect.Dx() != 64 || g.Rect.Dy() != 64 {
		t.Fatalf("a 64x64 frame on a %v mode: %v; want it handed on", m, err)
	}
}
