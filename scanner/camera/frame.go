package camera

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
)

// pixelFormat is a V4L2 pixel format code: four ASCII bytes, the first in
// the lowest byte (v4l2_fourcc in the kernel's videodev2.h).
type pixelFormat uint32

func fourcc(s string) pixelFormat {
	return pixelFormat(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

// The formats this package reads. JPEG is what a few cameras call MJPEG.
var (
	fmtYUYV = fourcc("YUYV")
	fmtGREY = fourcc("GREY")
	fmtMJPG = fourcc("MJPG")
	fmtJPEG = fourcc("JPEG")
)

func (f pixelFormat) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", uint32(f))
		}
	}
	return string(b)
}

// bytesPerPixel is the size of one pixel in a packed frame of f; 0 for a
// compressed format.
func (f pixelFormat) bytesPerPixel() int {
	switch f {
	case fmtYUYV:
		return 2
	case fmtGREY:
		return 1
	}
	return 0
}

func (f pixelFormat) compressed() bool { return f == fmtMJPG || f == fmtJPEG }

// mode is what the device was set to deliver.
type mode struct {
	format        pixelFormat
	width, height int
}

func (m mode) String() string { return fmt.Sprintf("%v %dx%d", m.format, m.width, m.height) }

// maxSide bounds the frames this package accepts, a side in pixels, and
// maxJPEG a compressed frame in bytes.
const (
	maxSide = 4096
	maxJPEG = 16 << 20
)

// maxRowPadding is the most padding a packed frame may carry at the end of
// each row (drivers align rows to at most 64 bytes) before its size is
// taken to be wrong; it must also be less than a row.
const maxRowPadding = 64

// errBadFrame marks a frame the device delivered that cannot be used: too
// short, the wrong size, or a JPEG that does not decode.
var errBadFrame = errors.New("bad frame")

// frameBuffer turns device buffers into *image.Gray frames, reusing its
// pixels and its JPEG buffer from frame to frame. The zero value is ready.
type frameBuffer struct {
	gray  image.Gray
	jpeg  []byte // the compressed frame, copied out of the device's buffer
	fixed []byte // the frame with Huffman tables added, when it had none
}

// copyFrame copies what the frame needs out of buf, a buffer the device
// still owns, so that the buffer can be given back before the frame is
// used. For a packed format it copies the luma straight into the reused
// gray image (every second byte of YUYV); for MJPEG it copies the
// compressed bytes. finish then makes the frame.
func (fb *frameBuffer) copyFrame(m mode, buf []byte) error {
	if m.format.compressed() {
		if len(buf) > maxJPEG {
			return fmt.Errorf("%w: %d-byte JPEG", errBadFrame, len(buf))
		}
		fb.jpeg = append(fb.jpeg[:0], buf...)
		return nil
	}
	bpp := m.format.bytesPerPixel()
	w, h := m.width, m.height
	if bpp == 0 || w <= 0 || h <= 0 || w > maxSide || h > maxSide {
		return fmt.Errorf("%w: mode %v", errBadFrame, m)
	}
	stride, err := packedStride(len(buf), bpp*w, h)
	if err != nil {
		return err
	}
	g := &fb.gray
	if len(g.Pix) != w*h || g.Rect.Dx() != w || g.Rect.Dy() != h {
		g.Pix = make([]byte, w*h)
		g.Stride = w
		g.Rect = image.Rect(0, 0, w, h)
	}
	for y := range h {
		src := buf[y*stride : y*stride+bpp*w]
		dst := g.Pix[y*w : y*w+w]
		if bpp == 1 {
			copy(dst, src)
			continue
		}
		// YUYV: Y0 U Y1 V; the luma is every second byte.
		src = src[:2*len(dst)]
		for x := range dst {
			dst[x] = src[2*x]
		}
	}
	return nil
}

// packedStride checks that n bytes hold h rows of at least row bytes each,
// with a little padding at most, and returns the stride.
func packedStride(n, row, h int) (int, error) {
	want := row * h
	switch {
	case n < want:
		return 0, fmt.Errorf("%w: %d bytes, want %d", errBadFrame, n, want)
	case n == want:
		return row, nil
	case n%h == 0 && n/h-row <= min(maxRowPadding, row-1):
		return n / h, nil
	}
	return 0, fmt.Errorf("%w: %d bytes, want %d (the frame size differs from the one set)", errBadFrame, n, want)
}

// finish returns the frame copied by copyFrame: the reused gray image for
// a packed format, the Y plane of the decoded JPEG for MJPEG.
func (fb *frameBuffer) finish(m mode) (*image.Gray, error) {
	if !m.format.compressed() {
		return &fb.gray, nil
	}
	b, err := withHuffmanTables(fb.fixed[:0], fb.jpeg)
	if err != nil {
		return nil, err
	}
	if len(b) > len(fb.jpeg) {
		fb.fixed = b // tables were added: keep the grown buffer for the next frame
	}
	return decodeJPEGLuma(b, m)
}

// maxJPEGPadding is how far a JPEG frame's sides may exceed the mode's: an
// encoder may round a side up to its 16-pixel blocks (1080 to 1088).
const maxJPEGPadding = 16

// decodeJPEGLuma decodes a camera's JPEG frame and returns its luma plane
// without converting the colour image.
func decodeJPEGLuma(b []byte, m mode) (*image.Gray, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide {
		return nil, fmt.Errorf("%w: %dx%d JPEG", errBadFrame, cfg.Width, cfg.Height)
	}
	// Nor a frame of another size than the mode set (a few pixels of
	// block padding aside): it would cost what the mode does not show.
	if m.width > 0 && m.height > 0 && (abs(cfg.Width-m.width) > maxJPEGPadding || abs(cfg.Height-m.height) > maxJPEGPadding) {
		return nil, fmt.Errorf("%w: %dx%d JPEG, want %dx%d", errBadFrame, cfg.Width, cfg.Height, m.width, m.height)
	}
	// Nor one whose decoding takes more than its size shows: a
	// progressive frame's coefficients, or scans by the thousand.
	if err := imagebound.Check("jpeg", cfg, b, maxSide); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	switch img := img.(type) {
	case *image.YCbCr:
		return &image.Gray{Pix: img.Y, Stride: img.YStride, Rect: img.Rect}, nil
	case *image.Gray:
		return img, nil
	}
	return nil, fmt.Errorf("%w: JPEG decodes to %T", errBadFrame, img)
}
