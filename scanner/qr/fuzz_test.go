package qr_test

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// FuzzDecode feeds arbitrary bytes as a small gray frame. The first two
// bytes pick the width and the stride's slack; the rest are pixels, rows
// that the bytes do not fill are left short, so the image may be
// malformed. Decode must never panic, nor modify the frame, nor return
// text with an error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0})
	f.Add(bytes.Repeat([]byte{255}, 4096))
	r := rand.New(rand.NewPCG(19, 20))
	noise := make([]byte, 64*64+2)
	for i := range noise {
		noise[i] = uint8(r.UintN(256))
	}
	noise[0], noise[1] = 63, 0
	f.Add(noise)
	// A real code, drawn at one pixel a module, so the fuzzer starts from
	// frames the decoder gets far into.
	code, err := qr.Encode("CP1:FUZZ", qr.Options{ModuleSize: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte{byte(code.Rect.Dx() - 1), 0}, code.Pix...))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			_, _ = qr.Decode(&image.Gray{Pix: data, Stride: len(data), Rect: image.Rect(0, 0, len(data), 1)})
			return
		}
		w := int(data[0]) + 1
		stride := w + int(data[1]%8)
		pix := data[2:]
		h := len(pix)/stride + 1
		img := &image.Gray{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}
		before := bytes.Clone(pix)
		text, err := qr.Decode(img)
		if err != nil && text != "" {
			t.Fatalf("Decode returned %q with error %v", text, err)
		}
		if !bytes.Equal(before, pix) {
			t.Fatal("Decode modified the frame")
		}
	})
}

// FuzzDecodeReader feeds arbitrary bytes as an image file.
func FuzzDecodeReader(f *testing.F) {
	var buf bytes.Buffer
	code, err := qr.Encode("CP1:FUZZ", qr.Options{ModuleSize: 1})
	if err != nil {
		f.Fatal(err)
	}
	if err := qr.WritePNG(&buf, code); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = qr.DecodeReader(bytes.NewReader(data))
	})
}
