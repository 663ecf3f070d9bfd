package folder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // the formats read: JPEG
	_ "image/png"  // and PNG
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/checkpointgate/checkpoint/internal/imagebound"
	"github.com/checkpointgate/checkpoint/scanner"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxSide  = 8192
	DefaultMaxBytes = 32 << 20
)

// Config says what to read. The zero value of every field but Path means
// its documented default.
type Config struct {
	// Path is an image file, or a folder whose PNG and JPEG files (by
	// extension: .png, .jpg, .jpeg, in any case; not hidden ones, not in
	// subfolders) are read in name order.
	Path string

	// Loop starts over after the last image (for a demo): the folder is
	// listed again, so files added meanwhile are read too. A pass that
	// yields no image at all ends the loop with io.EOF.
	Loop bool

	// MaxSide is the largest width or height read, in pixels; 0 means
	// DefaultMaxSide. Decoding takes up to 9 bytes a pixel of MaxSide
	// squared for a moment: lower it on a board with little memory. An
	// image that would take more, by its header (a progressive JPEG or
	// an interlaced PNG near MaxSide a side), is refused.
	MaxSide int

	// MaxBytes is the largest file read; 0 means DefaultMaxBytes.
	MaxBytes int64

	// Now is the clock for Read.At; nil means time.Now.
	Now func() time.Time
}

// Stats counts what a Folder has done.
type Stats struct {
	Images    uint64 // images returned
	Refused   uint64 // files refused as too large (ErrTooLarge)
	Failed    uint64 // files that could not be read or decoded
	Passes    uint64 // passes over the files completed (with Loop)
	LastError string // the last refusal or failure
}

// Errors that Next returns, wrapped with the file's name.
var (
	// ErrTooLarge: a file over Config.MaxBytes, or an image over
	// Config.MaxSide pixels a side. Next goes on to the next file.
	ErrTooLarge = errors.New("image too large")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("folder: closed")
)

// Folder reads image files as frames: an image file, or the images of a
// folder in name order. It is a scanner.Source; Next and Close may be
// called from different goroutines, and Stats from any.
type Folder struct {
	cfg   Config
	isDir bool

	mu     sync.Mutex
	files  []string // paths, in order
	i      int      // the next file to read
	inPass int      // images returned in this pass
	closed bool

	statsMu sync.Mutex
	stats   Stats
}

var _ scanner.Source = (*Folder)(nil)

// Open checks cfg.Path and lists its images. It fails when the path cannot
// be read, or is a folder with no PNG or JPEG file in it.
func Open(cfg Config) (*Folder, error) {
	if cfg.Path == "" {
		return nil, errors.New("folder: no path given")
	}
	if cfg.MaxSide == 0 {
		cfg.MaxSide = DefaultMaxSide
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxSide < 1 || cfg.MaxBytes < 1 {
		return nil, errors.New("folder: limits must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st, err := os.Stat(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	f := &Folder{cfg: cfg, isDir: st.IsDir()}
	if err := f.list(); err != nil {
		return nil, err
	}
	return f, nil
}

// list reads the file list: the path itself, or the images in the folder.
func (f *Folder) list() error {
	if !f.isDir {
		f.files = []string{f.cfg.Path}
		return nil
	}
	entries, err := os.ReadDir(f.cfg.Path)
	if err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	f.files = f.files[:0]
	for _, e := range entries {
		if isImageName(e.Name()) && !e.IsDir() {
			f.files = append(f.files, filepath.Join(f.cfg.Path, e.Name()))
		}
	}
	slices.Sort(f.files)
	if len(f.files) == 0 {
		return fmt.Errorf("folder: no PNG or JPEG files in %s", f.cfg.Path)
	}
	return nil
}

func isImageName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// Next returns the next image as an *image.Gray, with Read.Name its file
// name. The frame is the caller's to keep. It returns io.EOF after the
// last file (with Loop, only when a whole pass yielded nothing), ctx.Err()
// when ctx is done and ErrClosed after Close. A file that is too large
// (ErrTooLarge) or cannot be decoded is an error for that file, counted,
// and the next call goes on to the next file.
func (f *Folder) Next(ctx context.Context) (scanner.Read, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return scanner.Read{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return scanner.Read{}, err
	}
	if f.i >= len(f.files) {
		if !f.cfg.Loop || f.inPass == 0 {
			return scanner.Read{}, io.EOF
		}
		f.update(func(s *Stats) { s.Passes++ })
		if err := f.list(); err != nil {
			// A folder emptied or gone yields no image: after this
			// error, the next call ends the loop with io.EOF.
			f.files, f.i, f.inPass = nil, 0, 0
			return scanner.Read{}, f.fail(err, false)
		}
		f.i, f.inPass = 0, 0
	}
	path := f.files[f.i]
	f.i++
	name := filepath.Base(path)
	g, err := f.load(path)
	if err != nil {
		return scanner.Read{}, f.fail(fmt.Errorf("folder: %s: %w", name, err), errors.Is(err, ErrTooLarge))
	}
	f.inPass++
	f.update(func(s *Stats) { s.Images++ })
	return scanner.Read{Frame: g, Name: name, At: f.cfg.Now()}, nil
}

// fail counts err, as a refusal or a failure, and returns it.
func (f *Folder) fail(err error, refused bool) error {
	f.update(func(s *Stats) {
		if refused {
			s.Refused++
		} else {
			s.Failed++
		}
		s.LastError = err.Error()
	})
	return err
}

func (f *Folder) update(fn func(s *Stats)) {
	f.statsMu.Lock()
	fn(&f.stats)
	f.statsMu.Unlock()
}

// Stats returns a copy of the counters.
func (f *Folder) Stats() Stats {
	f.statsMu.Lock()
	defer f.statsMu.Unlock()
	return f.stats
}

// Close ends the reading; Next then returns ErrClosed. No file is held
// open between calls, so there is nothing else to release.
func (f *Folder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// load reads the file at path into a gray image, checking its size on
// disk and, from its header, its size in pixels before decoding it.
func (f *Folder) load(path string) (*image.Gray, error) {
	// Anything but a regular file is refused before it is opened, and
	// the open does not wait: opening a FIFO named like an image would
	// block until a writer came, past any context and Close.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, st.Size(), f.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(fh, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, f.cfg.MaxBytes)
	}
	c, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return nil, fmt.Errorf("decode: empty image (%dx%d)", c.Width, c.Height)
	}
	if c.Width > f.cfg.MaxSide || c.Height > f.cfg.MaxSide {
		return nil, fmt.Errorf("%w: %dx%d, over %d a side", ErrTooLarge, c.Width, c.Height, f.cfg.MaxSide)
	}
	if err := imagebound.Check(format, c, data, f.cfg.MaxSide); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return toGray(img), nil
}

// toGray returns img's luma as an *image.Gray: the image itself when it
// is one, the Y plane of a YCbCr image (a JPEG) without a copy, and
// otherwise a conversion in which transparent pixels show white, as a
// code on a web page or a phone does.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	}
	g := image.NewGray(b)
	switch m := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):]
			dst := g.Pix[g.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				p := src[4*x : 4*x+4 : 4*x+4]
				l := luma8(p[0], p[1], p[2])
				a := uint32(p[3])
				dst[x] = uint8((l*a + 255*(255-a) + 127) / 255)
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):]
			dst := g.Pix[g.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				p := src[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: the luma is already scaled by alpha.
				dst[x] = uint8(min(luma8(p[0], p[1], p[2])+255-uint32(p[3]), 255))
			}
		}
	case *image.Paletted:
		var lut [256]uint8 // indexes past the palette stay black
		for i, c := range m.Palette {
			if i < len(lut) {
				lut[i] = grayOverWhite(c)
			}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):]
			dst := g.Pix[g.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				dst[x] = lut[src[x]]
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			dst := g.Pix[g.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				dst[x] = grayOverWhite(img.At(b.Min.X+x, y))
			}
		}
	}
	return g
}

// luma8 is the luma of 8-bit RGB, with the weights of color.GrayModel.
func luma8(r, g, b uint8) uint32 {
	return (19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16
}

// grayOverWhite is c's luma when it is drawn over white.
func grayOverWhite(c color.Color) uint8 {
	r, g, b, a := c.RGBA() // 16 bits, premultiplied
	l := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	return uint8(min(l+0xffff-a, 0xffff) >> 8)
}
