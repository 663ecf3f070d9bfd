package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
)

// ErrFormat is returned by DecodeFile and DecodeReader for data that is not
// a PNG or JPEG image.
var ErrFormat = errors.New("qr: not a PNG or JPEG image")

// DecodeImage returns the text of the QR code in img, or ErrNotFound. See
// (*Decoder).DecodeImage.
func DecodeImage(img image.Image) (string, error) {
	r, err := NewDecoder().DecodeImage(img)
	if err != nil {
		return "", err
	}
	return r.Text, nil
}

// DecodeImage decodes any image: an *image.Gray is read in place, the Y
// plane of an *image.YCbCr (a JPEG, a camera frame) is read in place as
// gray, and any other image is converted to gray, with transparent pixels
// laid over white. It refuses an image over MaxDimension on a side with
// ErrTooLarge before converting it.
func (d *Decoder) DecodeImage(img image.Image) (Result, error) {
	g, err := safeGrayOf(img)
	if err != nil {
		return Result{}, err
	}
	return d.Decode(g)
}

// DecodeFile returns the text of the QR code in the PNG or JPEG file at
// path. See DecodeReader.
func DecodeFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("qr: %w", err)
	}
	defer f.Close()
	return DecodeReader(f)
}

// DecodeReader returns the text of the QR code in the PNG or JPEG image read
// from r. It reads at most MaxFileSize bytes and checks the image's
// dimensions from its header before decoding any pixels, returning
// ErrTooLarge when either limit is exceeded, ErrFormat for data that is
// not PNG or JPEG, and ErrNotFound when the image holds no readable code.
func DecodeReader(r io.Reader) (string, error) {
	img, err := readImage(r)
	if err != nil {
		return "", err
	}
	return DecodeImage(img)
}

// readImage reads a bounded PNG or JPEG image.
func readImage(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("qr: read image: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: file over %d bytes", ErrTooLarge, MaxFileSize)
	}
	// Only the two formats a pass is shared in, whatever other decoders
	// the program has registered.
	var (
		format       string
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
	)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		format, decodeConfig, decode = "png", png.DecodeConfig, png.Decode
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		format, decodeConfig, decode = "jpeg", jpeg.DecodeConfig, jpeg.Decode
	default:
		return nil, ErrFormat
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("qr: read image header: %w", err)
	}
	if cfg.Width > MaxDimension || cfg.Height > MaxDimension {
		return nil, fmt.Errorf("%w: %dx%d pixels, limit %dx%d", ErrTooLarge, cfg.Width, cfg.Height, MaxDimension, MaxDimension)
	}
	// Nor an image whose decoding takes more than its size shows (a
	// progressive JPEG, an interlaced PNG, a JPEG of many scans).
	if err := imagebound.Check(format, cfg, data, MaxDimension); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("qr: decode image: %w", err)
	}
	return img, nil
}

// safeGrayOf is grayOf, with a panic (an image whose Pix is shorter than
// its Rect says) turned into an error.
func safeGrayOf(img image.Image) (g *image.Gray, err error) {
	defer func() {
		if v := recover(); v != nil {
			g, err = nil, fmt.Errorf("qr: %w: %v", errBadImage, v)
		}
	}()
	return grayOf(img)
}

// grayOf returns img as an *image.Gray, sharing pixels where it can.
func grayOf(img image.Image) (*image.Gray, error) {
	if img == nil {
		return nil, fmt.Errorf("qr: %w: nil image", errBadImage)
	}
	b := img.Bounds()
	if b.Dx() > MaxDimension || b.Dy() > MaxDimension {
		return nil, fmt.Errorf("%w: %dx%d pixels, limit %dx%d", ErrTooLarge, b.Dx(), b.Dy(), MaxDimension, MaxDimension)
	}
	if b.Empty() {
		return nil, ErrNotFound
	}
	switch m := img.(type) {
	case *image.Gray:
		return m, nil
	case *image.YCbCr:
		// The Y plane is laid out as a Gray image is: YOffset(x, y) is
		// (y-Rect.Min.Y)*YStride + (x-Rect.Min.X).
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}, nil
	case *image.NRGBA:
		return fromRGBA(m.Pix, m.Stride, b, false), nil
	case *image.RGBA:
		return fromRGBA(m.Pix, m.Stride, b, true), nil
	}
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := g.Pix[(y-b.Min.Y)*g.Stride:]
		for x := b.Min.X; x < b.Max.X; x++ {
			r, gr, bl, a := img.At(x, y).RGBA()
			row[x-b.Min.X] = lumaOverWhite(r, gr, bl, a)
		}
	}
	return g, nil
}

// fromRGBA converts 8-bit RGBA pixels to gray over white. premultiplied
// says whether the colour channels are already multiplied by alpha.
func fromRGBA(pix []byte, stride int, b image.Rectangle, premultiplied bool) *image.Gray {
	g := image.NewGray(b)
	w := b.Dx()
	for y := range b.Dy() {
		src := pix[y*stride : y*stride+4*w]
		dst := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := range w {
			r, gr, bl, a := uint32(src[4*x]), uint32(src[4*x+1]), uint32(src[4*x+2]), uint32(src[4*x+3])
			if !premultiplied {
				r, gr, bl = r*a/255, gr*a/255, bl*a/255
			}
			// Scale 8-bit to the 16-bit range lumaOverWhite expects.
			dst[x] = lumaOverWhite(r*0x101, gr*0x101, bl*0x101, a*0x101)
		}
	}
	return g
}

// lumaOverWhite is the luma of an alpha-premultiplied 16-bit colour laid
// over white, with the weights color.GrayModel uses. A QR image with a
// transparent background thus reads as dark modules on white, not on
// black.
func lumaOverWhite(r, g, b, a uint32) uint8 {
	// Valid premultiplied channels never exceed alpha; clamp any that do
	// so the sum below cannot overflow.
	r, g, b = min(r, a), min(g, a), min(b, a)
	bg := 0xffff - a
	r, g, b = r+bg, g+bg, b+bg
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}
