package folder

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJPEG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gradient is a gray image whose pixel at (x, y) is 10x+3y.
func gradient(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.SetGray(x, y, color.Gray{uint8(10*x + 3*y)})
		}
	}
	return g
}

func pixels(g *image.Gray) []byte {
	var out []byte
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			out = append(out, g.GrayAt(x, y).Y)
		}
	}
	return out
}

// readAll reads f to its end: the names read, and the errors met on the way.
func readAll(t *testing.T, f *Folder) (names []string, errs []error) {
	t.Helper()
	for range 100 {
		r, err := f.Next(context.Background())
		if err == io.EOF {
			return names, errs
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Frame == nil || r.Text != "" || r.At.IsZero() {
			t.Fatalf("read %+v", r)
		}
		names = append(names, r.Name)
	}
	t.Fatal("no end")
	return nil, nil
}

func TestFolderInNameOrder(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "b.png"), gradient(8, 6))
	writeJPEG(t, filepath.Join(dir, "a.jpg"), gradient(16, 16))
	writeJPEG(t, filepath.Join(dir, "c.JPEG"), gradient(16, 16))
	writePNG(t, filepath.Join(dir, "10.png"), gradient(4, 4))
	writePNG(t, filepath.Join(dir, ".hidden.png"), gradient(4, 4))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.png"), 0o755)

	f, err := Open(Config{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	names, errs := readAll(t, f)
	if want := []string{"10.png", "a.jpg", "b.png", "c.JPEG"}; !reflect.DeepEqual(names, want) || errs != nil {
		t.Errorf("read %q (errors %v), want %q", names, errs, want)
	}
	if s := f.Stats(); s.Images != 4 || s.Failed != 0 || s.Refused != 0 {
		t.Errorf("stats %+v", s)
	}
	if _, err := f.Next(context.Background()); err != io.EOF {
		t.Errorf("after the end: %v", err)
	}
}

func TestPixels(t *testing.T) {
	dir := t.TempDir()
	want := gradient(8, 6)

	// Gray PNG: the decoded image itself.
	writePNG(t, filepath.Join(dir, "gray.png"), want)
	if got := readOne(t, filepath.Join(dir, "gray.png")); !bytes.Equal(pixels(got), pixels(want)) {
		t.Errorf("gray PNG: %v", pixels(got))
	}

	// Colour JPEG: the Y plane, as image/jpeg decodes it.
	rgb := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			rgb.Set(x, y, color.RGBA{uint8(8 * x), uint8(10 * y), 90, 255})
		}
	}
	writeJPEG(t, filepath.Join(dir, "colour.jpg"), rgb)
	data, _ := os.ReadFile(filepath.Join(dir, "colour.jpg"))
	dec, _ := jpeg.Decode(bytes.NewReader(data))
	ycc := dec.(*image.YCbCr)
	got := readOne(t, filepath.Join(dir, "colour.jpg"))
	if got.Rect != ycc.Rect {
		t.Errorf("colour JPEG: rect %v", got.Rect)
	}
	for y := range 24 {
		for x := range 32 {
			if got.GrayAt(x, y).Y != ycc.Y[ycc.YOffset(x, y)] {
				t.Fatalf("colour JPEG: luma differs at %d,%d", x, y)
			}
		}
	}

	// RGBA PNG with transparency: opaque pixels as color.GrayModel
	// converts them, transparent ones white, half transparent between.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	nrgba.SetNRGBA(0, 0, color.NRGBA{200, 30, 60, 255})
	nrgba.SetNRGBA(1, 0, color.NRGBA{0, 0, 0, 0})
	nrgba.SetNRGBA(2, 0, color.NRGBA{0, 0, 0, 255})
	nrgba.SetNRGBA(3, 0, color.NRGBA{0, 0, 0, 128})
	writePNG(t, filepath.Join(dir, "alpha.png"), nrgba)
	g := readOne(t, filepath.Join(dir, "alpha.png"))
	opaque := color.GrayModel.Convert(color.NRGBA{200, 30, 60, 255}).(color.Gray).Y
	if p := pixels(g); p[0] != opaque || p[1] != 255 || p[2] != 0 || p[3] < 125 || p[3] > 129 {
		t.Errorf("NRGBA PNG: %v, want [%d 255 0 ~127]", p, opaque)
	}

	// Paletted PNG, as QR generators write: black, white, transparent.
	pal := image.NewPaletted(image.Rect(0, 0, 3, 1), color.Palette{color.Black, color.White, color.Transparent})
	pal.Pix = []byte{0, 1, 2}
	writePNG(t, filepath.Join(dir, "pal.png"), pal)
	if p := pixels(readOne(t, filepath.Join(dir, "pal.png"))); !bytes.Equal(p, []byte{0, 255, 255}) {
		t.Errorf("paletted PNG: %v", p)
	}

	// 16-bit gray PNG: the high byte.
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{0x1234})
	g16.SetGray16(1, 0, color.Gray16{0xffff})
	writePNG(t, filepath.Join(dir, "g16.png"), g16)
	if p := pixels(readOne(t, filepath.Join(dir, "g16.png"))); !bytes.Equal(p, []byte{0x12, 0xff}) {
		t.Errorf("16-bit PNG: %v", p)
	}
}

func TestToGrayRGBA(t *testing.T) {
	m := image.NewRGBA(image.Rect(2, 3, 5, 4)) // not at the origin
	m.SetRGBA(2, 3, color.RGBA{255, 255, 255, 255})
	m.SetRGBA(3, 3, color.RGBA{0, 0, 0, 0})
	m.SetRGBA(4, 3, color.RGBA{10, 20, 30, 255})
	g := toGray(m)
	want := []byte{255, 255, color.GrayModel.Convert(color.RGBA{10, 20, 30, 255}).(color.Gray).Y}
	if g.Rect != m.Rect || !bytes.Equal(pixels(g), want) {
		t.Errorf("toGray(RGBA) = %v %v, want %v", g.Rect, pixels(g), want)
	}
	// Any other model goes through At.
	cmyk := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cmyk.SetCMYK(0, 0, color.CMYK{0, 0, 0, 255})
	if p := pixels(toGray(cmyk)); p[0] != 0 {
		t.Errorf("toGray(CMYK black) = %v", p)
	}
}

func readOne(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != filepath.Base(path) {
		t.Errorf("name %q", r.Name)
	}
	if _, err := f.Next(context.Background()); err != io.EOF {
		t.Errorf("a single file: then %v, want io.EOF", err)
	}
	return r.Frame
}

func TestSingleFileAnyName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scan")
	writePNG(t, path, gradient(3, 3))
	readOne(t, path)
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	// 8193 pixels wide: a small file, refused from its header.
	writePNG(t, filepath.Join(dir, "1-wide.png"), image.NewGray(image.Rect(0, 0, 8193, 1)))
	writePNG(t, filepath.Join(dir, "2-ok.png"), image.NewGray(image.Rect(0, 0, 8192, 2)))
	// Over 32 MiB on disk (sparse): refused before it is read.
	big, err := os.Create(filepath.Join(dir, "3-big.png"))
	if err != nil {
		t.Fatal(err)
	}
	big.Truncate(32<<20 + 1)
	big.Close()
	os.WriteFile(filepath.Join(dir, "4-garbage.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	os.WriteFile(filepath.Join(dir, "5-empty.jpg"), nil, 0o644)
	writeJPEG(t, filepath.Join(dir, "6-ok.jpg"), gradient(8, 8))

	f, err := Open(Config{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	names, errs := readAll(t, f)
	if want := []string{"2-ok.png", "6-ok.jpg"}; !reflect.DeepEqual(names, want) {
		t.Errorf("read %q, want %q", names, want)
	}
	if len(errs) != 4 || !errors.Is(errs[0], ErrTooLarge) || !errors.Is(errs[1], ErrTooLarge) ||
		errors.Is(errs[2], ErrTooLarge) || errors.Is(errs[3], ErrTooLarge) {
		t.Fatalf("errors %v", errs)
	}
	for i, want := range []string{"folder: 1-wide.png: image too large: 8193x1", "folder: 3-big.png: image too large", "folder: 4-garbage.png: decode", "folder: 5-empty.jpg: decode"} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d: %q, want %q...", i, errs[i], want)
		}
	}
	if s := f.Stats(); s.Images != 2 || s.Refused != 2 || s.Failed != 2 || !strings.Contains(s.LastError, "5-empty.jpg") {
		t.Errorf("stats %+v", s)
	}

	// Smaller limits from Config.
	f, _ = Open(Config{Path: filepath.Join(dir, "6-ok.jpg"), MaxSide: 7})
	if _, err := f.Next(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSide 7: %v", err)
	}
	f, _ = Open(Config{Path: filepath.Join(dir, "6-ok.jpg"), MaxBytes: 100})
	if _, err := f.Next(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes 100: %v", err)
	}
}

func TestLoop(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), gradient(2, 2))
	writePNG(t, filepath.Join(dir, "b.png"), gradient(2, 2))
	f, err := Open(Config{Path: dir, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for range 7 {
		r, err := f.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Name)
		if len(names) == 3 {
			// A file added now is read from the next pass on.
			writePNG(t, filepath.Join(dir, "c.png"), gradient(2, 2))
		}
	}
	if want := []string{"a.png", "b.png", "a.png", "b.png", "a.png", "b.png", "c.png"}; !reflect.DeepEqual(names, want) {
		t.Errorf("read %q, want %q", names, want)
	}
	if s := f.Stats(); s.Passes != 2 || s.Images != 7 {
		t.Errorf("stats %+v", s)
	}
}

func TestLoopWithNothingReadableEnds(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), []byte("nope"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("nope"), 0o644)
	f, err := Open(Config{Path: dir, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	names, errs := readAll(t, f)
	if len(names) != 0 || len(errs) != 2 {
		t.Errorf("read %q, errors %v", names, errs)
	}
}

// A looping folder emptied under it yields no image: the failed listing is
// one error, then the loop ends.
func TestLoopFolderEmptiedEnds(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), gradient(2, 2))
	f, err := Open(Config{Path: dir, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "a.png"))
	names, errs := readAll(t, f)
	if len(names) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "no PNG or JPEG") {
		t.Errorf("read %q, errors %v; want the one failed listing, then the end", names, errs)
	}
	if s := f.Stats(); s.Passes != 1 || s.Failed != 1 {
		t.Errorf("stats %+v; want one pass, one failure", s)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "folder: no path given"},
		{Config{Path: filepath.Join(dir, "missing")}, "no such file"},
		{Config{Path: dir}, "folder: no PNG or JPEG files in"},
		{Config{Path: dir, MaxSide: -1}, "limits"},
	} {
		if _, err := Open(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestContextAndClose(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), gradient(2, 2))
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	f, err := Open(Config{Path: dir, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	r, err := f.Next(context.Background())
	if err != nil || !r.At.Equal(at) {
		t.Errorf("Next = %+v, %v", r, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
