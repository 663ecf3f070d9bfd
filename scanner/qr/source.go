package qr

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
)

// graySource is a gozxing.LuminanceSource over the pixels of an
// *image.Gray. It reads the image's Pix slice in place, honouring Stride and
// Rect, and never converts the pixels.
//
// The rectangle it exposes is left, top, width, height in the local
// coordinates of pix, whose first byte is the top-left pixel; a crop only
// narrows that window.
type graySource struct {
	pix    []byte // the image's Pix; pix[0] is the top-left pixel of the image
	stride int
	left   int
	top    int
	width  int
	height int
	invert bool

	// matrix is the compact copy that GetMatrix returns when the window's
	// rows are not contiguous in pix; built once, on first use.
	matrix []byte
}

// errBadImage reports an *image.Gray whose Pix, Stride and Rect disagree.
var errBadImage = errors.New("malformed gray image")

// newGraySource wraps img without copying it. It refuses an image whose Pix
// is too short for its Rect and Stride (which would make indexing panic) and
// one larger than MaxDimension on a side.
func newGraySource(img *image.Gray) (*graySource, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", errBadImage)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil, ErrNotFound
	}
	if w > MaxDimension || h > MaxDimension {
		return nil, fmt.Errorf("%w: %dx%d pixels, limit %dx%d", ErrTooLarge, w, h, MaxDimension, MaxDimension)
	}
	if img.Stride < w {
		return nil, fmt.Errorf("%w: stride %d below width %d", errBadImage, img.Stride, w)
	}
	// The last pixel is at (h-1)*Stride + w-1. Compare by division so a huge
	// Stride cannot overflow the product.
	if len(img.Pix) < w || (len(img.Pix)-w)/img.Stride < h-1 {
		return nil, fmt.Errorf("%w: %d bytes of Pix for %dx%d pixels at stride %d", errBadImage, len(img.Pix), w, h, img.Stride)
	}
	return &graySource{pix: img.Pix, stride: img.Stride, width: w, height: h}, nil
}

func (s *graySource) GetWidth() int  { return s.width }
func (s *graySource) GetHeight() int { return s.height }

// GetRow copies row y into row (or a new slice if row is too short) and
// returns it. It copies because gozxing's own inverting wrapper writes into
// the row it is given, which must never be the caller's frame.
func (s *graySource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.height {
		return row, fmt.Errorf("qr: row %d outside 0..%d", y, s.height-1)
	}
	if len(row) < s.width {
		row = make([]byte, s.width)
	}
	off := (s.top+y)*s.stride + s.left
	copy(row, s.pix[off:off+s.width])
	if s.invert {
		for i := range s.width {
			row[i] = 255 - row[i]
		}
	}
	return row, nil
}

// GetMatrix returns the window's pixels row after row, width bytes each.
// When the rows are contiguous in pix (the common case of a whole frame
// whose Stride equals its width) that is pix itself, not a copy; gozxing
// only reads it. Otherwise, and for an inverted source, it builds a compact
// copy once.
func (s *graySource) GetMatrix() []byte {
	if !s.invert && (s.stride == s.width || s.height == 1) {
		off := s.top*s.stride + s.left
		return s.pix[off : off+s.width*s.height : off+s.width*s.height]
	}
	if s.matrix != nil {
		return s.matrix
	}
	m := make([]byte, s.width*s.height)
	for y := range s.height {
		off := (s.top+y)*s.stride + s.left
		row := m[y*s.width : (y+1)*s.width]
		copy(row, s.pix[off:off+s.width])
		if s.invert {
			for i := range row {
				row[i] = 255 - row[i]
			}
		}
	}
	s.matrix = m
	return m
}

func (s *graySource) IsCropSupported() bool { return true }

// Crop narrows the window without copying pixels.
func (s *graySource) Crop(left, top, width, height int) (gozxing.LuminanceSource, error) {
	if left < 0 || top < 0 || width <= 0 || height <= 0 || left+width > s.width || top+height > s.height {
		return nil, fmt.Errorf("qr: crop %dx%d at (%d,%d) outside %dx%d", width, height, left, top, s.width, s.height)
	}
	return &graySource{
		pix:    s.pix,
		stride: s.stride,
		left:   s.left + left,
		top:    s.top + top,
		width:  width,
		height: height,
		invert: s.invert,
	}, nil
}

// Invert returns a source that reads the same pixels as 255-value. It shares
// the pixels; only GetMatrix then needs a copy.
func (s *graySource) Invert() gozxing.LuminanceSource {
	return &graySource{
		pix:    s.pix,
		stride: s.stride,
		left:   s.left,
		top:    s.top,
		width:  s.width,
		height: s.height,
		invert: !s.invert,
	}
}

func (s *graySource) IsRotateSupported() bool { return true }

// RotateCounterClockwise returns a copy of the window turned 90° counter-
// clockwise. Unlike the rest of graySource it copies: a rotated view cannot
// share row-major pixels.
func (s *graySource) RotateCounterClockwise() (gozxing.LuminanceSource, error) {
	w, h := s.height, s.width
	pix := make([]byte, w*h)
	for y := range s.height {
		off := (s.top+y)*s.stride + s.left
		for x := range s.width {
			// Source (x, y) lands at (y, width-1-x).
			pix[(s.width-1-x)*w+y] = s.pix[off+x]
		}
	}
	return &graySource{pix: pix, stride: w, width: w, height: h, invert: s.invert}, nil
}

// RotateCounterClockwise45 is not supported; the QR reader never asks for it.
func (s *graySource) RotateCounterClockwise45() (gozxing.LuminanceSource, error) {
	return nil, errors.New("qr: rotation by 45 degrees is not supported")
}

func (s *graySource) String() string { return gozxing.LuminanceSourceString(s) }
