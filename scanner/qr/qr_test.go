package qr_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
	"github.com/checkpointgate/checkpoint/internal/imagebound/imageboundtest"
	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// roundTrips is how many random passes TestRoundTrip renders and decodes.
func roundTrips() int {
	if raceEnabled || testing.Short() {
		return 25
	}
	return 1000
}

// TestRoundTrip renders distinct random pass-like texts with Encode and
// decodes each with Decode: every one must come back exactly.
func TestRoundTrip(t *testing.T) {
	n := roundTrips()
	r := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, 0, n)
	seen := map[string]bool{}
	for len(texts) < n {
		s := qr.RandomPass(r)
		if !seen[s] {
			seen[s] = true
			texts = append(texts, s)
		}
	}
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(texts); i += workers {
				text := texts[i]
				img, err := qr.Encode(text, qr.Options{})
				if err != nil {
					t.Errorf("text %d: Encode: %v", i, err)
					continue
				}
				got, err := qr.Decode(img)
				if err != nil {
					t.Errorf("text %d: Decode: %v", i, err)
					continue
				}
				if got != text {
					t.Errorf("text %d: decoded %q, want %q", i, got, text)
				}
			}
		})
	}
	wg.Wait()
}

// TestDecodeGarbage feeds frames that hold no code, or are malformed: none
// may panic, and each must return an error.
func TestDecodeGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	noise := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(r.UintN(256))
	}
	blocks := image.NewGray(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			if (x/7+y/7)%3 == 0 || r.IntN(9) == 0 {
				blocks.Pix[y*640+x] = 255
			}
		}
	}
	filled := func(w, h int, v uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		return g
	}
	hugeStride := &image.Gray{Pix: make([]byte, 1<<22), Stride: 1 << 20, Rect: image.Rect(0, 0, 50, 4)}
	for i := range hugeStride.Pix {
		hugeStride.Pix[i] = uint8(r.UintN(256))
	}
	tests := []struct {
		name     string
		img      *image.Gray
		notFound bool // the error must be ErrNotFound
	}{
		{"zeros", filled(640, 480, 0), true},
		{"255", filled(640, 480, 255), true},
		{"noise", noise, true},
		{"blocks", blocks, true},
		{"1x1", filled(1, 1, 0), true},
		{"1x1000", filled(1, 1000, 128), true},
		{"1000x1", filled(1000, 1, 128), true},
		{"0x0", image.NewGray(image.Rectangle{}), true},
		{"inverted rect", &image.Gray{Pix: make([]byte, 100), Stride: 10, Rect: image.Rect(10, 10, 0, 0)}, true},
		{"huge stride", hugeStride, true},
		{"negative origin", &image.Gray{Pix: make([]byte, 100*100), Stride: 100, Rect: image.Rect(-50, -50, 50, 50)}, true},
		{"nil", nil, false},
		{"nil pix", &image.Gray{Stride: 640, Rect: image.Rect(0, 0, 640, 480)}, false},
		{"short pix", &image.Gray{Pix: make([]byte, 640*479), Stride: 640, Rect: image.Rect(0, 0, 640, 480)}, false},
		{"stride below width", &image.Gray{Pix: make([]byte, 640*480), Stride: 320, Rect: image.Rect(0, 0, 640, 480)}, false},
		{"zero stride", &image.Gray{Pix: make([]byte, 640*480), Stride: 0, Rect: image.Rect(0, 0, 640, 480)}, false},
		{"negative stride", &image.Gray{Pix: make([]byte, 640*480), Stride: -640, Rect: image.Rect(0, 0, 640, 480)}, false},
		{"max stride", &image.Gray{Pix: make([]byte, 16), Stride: int(^uint(0) >> 1), Rect: image.Rect(0, 0, 4, 4)}, false},
		{"too large", &image.Gray{Pix: make([]byte, 1), Stride: 1 << 14, Rect: image.Rect(0, 0, 1<<14, 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before []byte
			if tt.img != nil {
				before = bytes.Clone(tt.img.Pix)
			}
			got, err := qr.Decode(tt.img)
			if err == nil {
				t.Fatalf("Decode = %q, want an error", got)
			}
			if tt.notFound && !errors.Is(err, qr.ErrNotFound) {
				t.Errorf("Decode error = %v, want ErrNotFound", err)
			}
			if !tt.notFound && errors.Is(err, qr.ErrNotFound) {
				t.Errorf("Decode error = %v, want an error other than ErrNotFound", err)
			}
			if tt.img != nil && !bytes.Equal(before, tt.img.Pix) {
				t.Error("Decode modified the image")
			}
		})
	}
}

// TestDecodeSubImage decodes a code in a sub-image: a Rect that does not
// start at the origin and a Stride larger than its width.
func TestDecodeSubImage(t *testing.T) {
	text := qr.RandomPass(rand.New(rand.NewPCG(5, 6)))
	code := mustEncode(t, text, qr.Options{ModuleSize: 4})
	big := image.NewGray(image.Rect(0, 0, 1280, 720))
	for i := range big.Pix {
		big.Pix[i] = 200
	}
	at := image.Pt(500, 150)
	paste(big, code, at)
	sub := big.SubImage(image.Rectangle{Min: at.Sub(image.Pt(37, 41)), Max: at.Add(code.Rect.Size()).Add(image.Pt(23, 19))}).(*image.Gray)
	if sub.Rect.Min == (image.Point{}) || sub.Stride <= sub.Rect.Dx() {
		t.Fatalf("not a strided sub-image: Rect %v, Stride %d", sub.Rect, sub.Stride)
	}
	before := bytes.Clone(big.Pix)
	res, err := qr.NewDecoder().Decode(sub)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if res.Text != text {
		t.Fatalf("decoded %q, want %q", res.Text, text)
	}
	if res.Strategy != qr.DefaultOrder[0] {
		t.Errorf("strategy %v, want %v", res.Strategy, qr.DefaultOrder[0])
	}
	if len(res.Points) < 3 {
		t.Fatalf("got %d points, want at least 3", len(res.Points))
	}
	// The points are in the sub-image's coordinates, so they lie on the
	// code where it was pasted.
	codeRect := code.Rect.Add(at)
	for _, p := range res.Points {
		if !p.In(codeRect) {
			t.Errorf("point %v outside the code at %v", p, codeRect)
		}
	}
	if !bytes.Equal(before, big.Pix) {
		t.Error("Decode modified the image")
	}
}

// TestDecodeCameraLike decodes a small code, turned by 90° and 270°, on a
// noisy, textured background with soft edges, in a 1280x720 frame.
func TestDecodeCameraLike(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, turns := range []int{1, 3} {
		text := qr.RandomPass(r)
		frame := cameraFrame(t, r, text, 1280, 720, 4, turns)
		res, err := qr.NewDecoder().Decode(frame)
		if err != nil {
			t.Fatalf("turns %d: Decode: %v", turns, err)
		}
		if res.Text != text {
			t.Fatalf("turns %d: decoded %q, want %q", turns, res.Text, text)
		}
	}
}

// TestDecodeForeignCode decodes codes this package did not render: a URL
// drawn by gozxing's own writer (byte mode, level L) and by Encode.
func TestDecodeForeignCode(t *testing.T) {
	const url = "https://example.org/visit?gate=7&lang=en"
	bm, err := qrcode.NewQRCodeWriter().Encode(url, gozxing.BarcodeFormat_QR_CODE, 300, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, bm.GetWidth(), bm.GetHeight()))
	for y := range bm.GetHeight() {
		for x := range bm.GetWidth() {
			if !bm.Get(x, y) {
				img.Pix[y*img.Stride+x] = 255
			}
		}
	}
	if got, err := qr.Decode(img); err != nil || got != url {
		t.Errorf("gozxing writer: Decode = %q, %v; want %q", got, err, url)
	}
	if got, err := qr.Decode(mustEncode(t, url, qr.Options{})); err != nil || got != url {
		t.Errorf("Encode: Decode = %q, %v; want %q", got, err, url)
	}
	const unicode = "Gate 3 — 入口 ✓"
	if got, err := qr.Decode(mustEncode(t, unicode, qr.Options{Level: qr.LevelH})); err != nil || got != unicode {
		t.Errorf("UTF-8: Decode = %q, %v; want %q", got, err, unicode)
	}
}

// TestDecodeInverted decodes a light-on-dark code.
func TestDecodeInverted(t *testing.T) {
	text := qr.RandomPass(rand.New(rand.NewPCG(9, 10)))
	img := mustEncode(t, text, qr.Options{ModuleSize: 5})
	for i := range img.Pix {
		img.Pix[i] = 255 - img.Pix[i]
	}
	res, err := qr.NewDecoder().Decode(img)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if res.Text != text {
		t.Fatalf("decoded %q, want %q", res.Text, text)
	}
	if res.Strategy != qr.InvertedHarder && res.Strategy != qr.InvertedPure {
		t.Errorf("strategy %v, want an inverted one", res.Strategy)
	}
}

// TestDecoderRemembersStrategy checks that a Decoder tries the strategy
// that last succeeded first, and still finds codes that need another.
func TestDecoderRemembersStrategy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var d qr.Decoder // the zero value is ready
	plain := mustEncode(t, qr.RandomPass(r), qr.Options{ModuleSize: 4})
	inverted := mustEncode(t, qr.RandomPass(r), qr.Options{ModuleSize: 4})
	for i := range inverted.Pix {
		inverted.Pix[i] = 255 - inverted.Pix[i]
	}
	for i, img := range []*image.Gray{inverted, inverted, plain, plain} {
		if _, err := d.Decode(img); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if _, err := d.Decode(image.NewGray(image.Rect(0, 0, 64, 64))); !errors.Is(err, qr.ErrNotFound) {
		t.Fatalf("empty frame: %v, want ErrNotFound", err)
	}
}

// TestDecoderFallbacks checks that a Decoder with a bounded number of
// fallbacks a call takes the fallbacks in turn: it finds a code that only
// a late fallback reads in the call that tries it, no sooner and no
// later, and then keeps finding it at once.
func TestDecoderFallbacks(t *testing.T) {
	text := qr.RandomPass(rand.New(rand.NewPCG(29, 30)))
	img := mustEncode(t, text, qr.Options{ModuleSize: 4})
	for i := range img.Pix {
		img.Pix[i] = 255 - img.Pix[i]
	}
	res, err := qr.NewDecoder().Decode(img)
	if err != nil || res.Strategy < qr.InvertedHarder {
		t.Fatalf("strategy %v, %v; the test needs a code only an inverted strategy reads", res.Strategy, err)
	}
	// The fallbacks are the strategies after the first, in their order.
	index := slices.Index(qr.DefaultOrder[1:], res.Strategy)
	fallbacks := len(qr.DefaultOrder) - 1
	for _, perCall := range []int{1, 2, 3} {
		d := qr.NewDecoder()
		d.Fallbacks = perCall
		want := index/perCall + 1
		calls := 0
		for {
			calls++
			res, err := d.Decode(img)
			if err == nil {
				if res.Text != text {
					t.Fatalf("decoded %q, want %q", res.Text, text)
				}
				break
			}
			if !errors.Is(err, qr.ErrNotFound) {
				t.Fatal(err)
			}
			if calls > fallbacks {
				t.Fatalf("%d a call: no code found in %d calls", perCall, calls)
			}
		}
		if calls != want {
			t.Errorf("%d a call: found the code in call %d, want %d", perCall, calls, want)
		}
		for range 3 {
			if res, err := d.Decode(img); err != nil || res.Text != text {
				t.Fatalf("after finding it: Decode = %q, %v", res.Text, err)
			}
		}
	}
}

// TestDecodeImage checks the conversions DecodeImage makes.
func TestDecodeImage(t *testing.T) {
	text := qr.RandomPass(rand.New(rand.NewPCG(13, 14)))
	gray := mustEncode(t, text, qr.Options{ModuleSize: 4})
	b := gray.Rect

	// Transparent background, dark modules: must read as dark on white.
	nrgba := image.NewNRGBA(b)
	rgba := image.NewRGBA(b)
	paletted := image.NewPaletted(b, color.Palette{color.Transparent, color.Black})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if gray.GrayAt(x, y).Y == 0 {
				nrgba.SetNRGBA(x, y, color.NRGBA{20, 30, 120, 255})
				rgba.SetRGBA(x, y, color.RGBA{0, 0, 0, 255})
				paletted.SetColorIndex(x, y, 1)
			}
		}
	}
	ycbcr := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		copy(ycbcr.Y[y*ycbcr.YStride:], gray.Pix[y*gray.Stride:(y+1)*gray.Stride])
	}
	for i := range ycbcr.Cb {
		ycbcr.Cb[i], ycbcr.Cr[i] = 128, 128
	}
	for _, img := range []image.Image{gray, nrgba, rgba, paletted, ycbcr, ycbcr.SubImage(b.Inset(3))} {
		got, err := qr.DecodeImage(img)
		if err != nil || got != text {
			t.Errorf("%T: DecodeImage = %q, %v; want the text", img, got, err)
		}
	}
	if _, err := qr.DecodeImage(nil); err == nil || errors.Is(err, qr.ErrNotFound) {
		t.Errorf("nil: DecodeImage error = %v, want a non-ErrNotFound error", err)
	}
	if _, err := qr.DecodeImage(image.NewGray16(image.Rect(0, 0, qr.MaxDimension+1, 1))); !errors.Is(err, qr.ErrTooLarge) {
		t.Errorf("wide image: DecodeImage error = %v, want ErrTooLarge", err)
	}
	if _, err := qr.DecodeImage(&image.RGBA{Pix: make([]byte, 8), Stride: 400, Rect: image.Rect(0, 0, 100, 100)}); err == nil {
		t.Error("malformed RGBA: DecodeImage succeeded")
	}
}

// TestDecodeFile reads PNG and JPEG files and refuses oversized, truncated
// and foreign ones.
func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	text := qr.RandomPass(rand.New(rand.NewPCG(15, 16)))
	img := mustEncode(t, text, qr.Options{})

	var pngBuf bytes.Buffer
	if err := qr.WritePNG(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	var jpegBuf bytes.Buffer
	if err := jpeg.Encode(&jpegBuf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	var colourJPEG bytes.Buffer
	rgba := image.NewRGBA(img.Rect)
	for i, v := range img.Pix {
		rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = v, v/2+100, v, 255
	}
	if err := jpeg.Encode(&colourJPEG, rgba, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	var widePNG bytes.Buffer
	if err := png.Encode(&widePNG, image.NewGray(image.Rect(0, 0, qr.MaxDimension+1, 1))); err != nil {
		t.Fatal(err)
	}
	var emptyPNG bytes.Buffer
	if err := png.Encode(&emptyPNG, image.NewGray(image.Rect(0, 0, 10, 10))); err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, qr.MaxFileSize+1)
	copy(huge, pngBuf.Bytes())

	tests := []struct {
		name string
		data []byte
		want error // nil: must decode to text
	}{
		{"pass.png", pngBuf.Bytes(), nil},
		{"pass.jpg", jpegBuf.Bytes(), nil},
		{"colour.jpg", colourJPEG.Bytes(), nil},
		{"wide.png", widePNG.Bytes(), qr.ErrTooLarge},
		{"huge.png", huge, qr.ErrTooLarge},
		{"empty.png", emptyPNG.Bytes(), qr.ErrNotFound},
		{"text.png", []byte("CP1:NOT AN IMAGE"), qr.ErrFormat},
		{"anim.gif", []byte("GIF89a\x01\x00\x01\x00"), qr.ErrFormat},
		{"truncated.png", pngBuf.Bytes()[:pngBuf.Len()/2], errAny},
		{"header-only.jpg", jpegBuf.Bytes()[:20], errAny},
		// Each scan goes over the whole image, in a few bytes.
		{"scans.jpg", imageboundtest.ProgressiveJPEG(8, 1, imagebound.MaxScans), qr.ErrTooLarge},
		{"fewer-scans.jpg", imageboundtest.ProgressiveJPEG(8, 1, imagebound.MaxScans-1), qr.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := qr.DecodeFile(path)
			switch {
			case tt.want == nil:
				if err != nil || got != text {
					t.Errorf("DecodeFile = %q, %v; want the text", got, err)
				}
			case tt.want == errAny:
				if err == nil {
					t.Errorf("DecodeFile = %q, want an error", got)
				}
			case !errors.Is(err, tt.want):
				t.Errorf("DecodeFile error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := qr.DecodeFile(filepath.Join(dir, "missing.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want os.ErrNotExist", err)
	}
}

var errAny = errors.New("any error")

// TestEncodeOptions checks sizes, defaults and refusals.
func TestEncodeOptions(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	n := 20
	if raceEnabled || testing.Short() {
		n = 3
	}
	for range n {
		img := mustEncode(t, qr.RandomPass(r), qr.Options{})
		if w, h := img.Rect.Dx(), img.Rect.Dy(); w != h || w < 600 || w > 800 {
			t.Errorf("default size %dx%d, want a square of 600 to 800 pixels", w, h)
		}
	}
	short := mustEncode(t, "CP1:ABC", qr.Options{ModuleSize: 3})
	// Version 1 is 21 modules, plus 4 of quiet zone each side.
	if got, want := short.Rect.Dx(), (21+8)*3; got != want {
		t.Errorf("version 1 at 3 px: %d pixels wide, want %d", got, want)
	}
	for x := range 4 * 3 {
		if short.Pix[x*short.Stride+x] != 255 {
			t.Fatalf("quiet zone not white at (%d,%d)", x, x)
		}
	}
	if short.Pix[12*short.Stride+12] != 0 {
		t.Error("finder pattern corner not black")
	}
	wide := mustEncode(t, "CP1:ABC", qr.Options{ModuleSize: 3, QuietZone: 10})
	if got, want := wide.Rect.Dx(), (21+20)*3; got != want {
		t.Errorf("quiet zone 10: %d pixels wide, want %d", got, want)
	}
	for _, level := range []qr.Level{qr.LevelL, qr.LevelM, qr.LevelQ, qr.LevelH} {
		text := "CP1:LEVEL " + level.String()
		if got, err := qr.Decode(mustEncode(t, text, qr.Options{Level: level})); err != nil || got != text {
			t.Errorf("level %v: Decode = %q, %v", level, got, err)
		}
	}

	bad := []struct {
		name string
		text string
		opt  qr.Options
	}{
		{"empty", "", qr.Options{}},
		{"quiet zone 2", "CP1:A", qr.Options{QuietZone: 2}},
		{"negative quiet zone", "CP1:A", qr.Options{QuietZone: -1}},
		{"negative module", "CP1:A", qr.Options{ModuleSize: -3}},
		{"huge module", "CP1:A", qr.Options{ModuleSize: 1000}},
		{"unknown level", "CP1:A", qr.Options{Level: 9}},
		{"too long", "CP1:" + strings.Repeat("A", 5000), qr.Options{}},
	}
	for _, tt := range bad {
		if img, err := qr.Encode(tt.text, tt.opt); err == nil {
			t.Errorf("%s: Encode returned a %v image, want an error", tt.name, img.Rect)
		}
	}
	if _, err := qr.Encode("CP1:A", qr.Options{ModuleSize: 1000}); !errors.Is(err, qr.ErrTooLarge) {
		t.Errorf("huge module: error %v, want ErrTooLarge", err)
	}
	if err := qr.WritePNG(&bytes.Buffer{}, nil); err == nil {
		t.Error("WritePNG(nil) succeeded")
	}
}

func mustEncode(t testing.TB, text string, opt qr.Options) *image.Gray {
	t.Helper()
	img, err := qr.Encode(text, opt)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return img
}

// paste copies src into dst with src's top-left corner at at.
func paste(dst, src *image.Gray, at image.Point) {
	for y := range src.Rect.Dy() {
		copy(dst.Pix[(at.Y+y)*dst.Stride+at.X:], src.Pix[y*src.Stride:y*src.Stride+src.Rect.Dx()])
	}
}

// cameraFrame renders text with modules of moduleSize pixels, turns it
// counter-clockwise by 90° turns times, and puts it in the middle of a w×h
// frame with a textured background, reduced contrast, soft edges and
// sensor noise, as a camera might see a phone screen.
func cameraFrame(t testing.TB, r *rand.Rand, text string, w, h, moduleSize, turns int) *image.Gray {
	return cameraFrameOpts(t, r, text, w, h, moduleSize, turns, true, true, 15)
}

func cameraFrameOpts(t testing.TB, r *rand.Rand, text string, w, h, moduleSize, turns int, texture, blur bool, noise int) *image.Gray {
	code := mustEncode(t, text, qr.Options{ModuleSize: moduleSize})
	for range turns {
		code = qr.Rotate90(code)
	}
	frame := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			// Stripes and blobs, from a dark 60 to a light 190.
			v := 128
			if texture {
				v = 60 + (x*3+y*5)%90 + 40*((x/37+y/23)%2)
			}
			frame.Pix[y*w+x] = uint8(v)
		}
	}
	at := image.Pt((w-code.Rect.Dx())/2, (h-code.Rect.Dy())/2)
	for y := range code.Rect.Dy() {
		for x := range code.Rect.Dx() {
			// A screen's black is not 0 nor its white 255.
			v := 40 + int(code.Pix[y*code.Stride+x])*170/255
			frame.Pix[(at.Y+y)*w+at.X+x] = uint8(v)
		}
	}
	// A 3x3 box blur, then noise.
	blurred := image.NewGray(frame.Rect)
	for y := range h {
		for x := range w {
			sum, n := 0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if !blur && (dx != 0 || dy != 0) {
						continue
					}
					if xx, yy := x+dx, y+dy; xx >= 0 && xx < w && yy >= 0 && yy < h {
						sum += int(frame.Pix[yy*w+xx])
						n++
					}
				}
			}
			v := sum/n + r.IntN(2*noise+1) - noise
			blurred.Pix[y*w+x] = uint8(min(255, max(0, v)))
		}
	}
	return blurred
}
