package qr

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// MaxDimension is the largest width or height, in pixels, that Decode,
// DecodeImage and DecodeFile accept.
const MaxDimension = 8192

// MaxFileSize is the largest file, in bytes, that DecodeFile and
// DecodeReader accept.
const MaxFileSize = 32 << 20

var (
	// ErrNotFound is returned when an image holds no QR code that could be
	// read. It is the normal answer for most camera frames.
	ErrNotFound = errors.New("qr: no code found")

	// ErrTooLarge is returned for an image wider or taller than
	// MaxDimension, or a file larger than MaxFileSize.
	ErrTooLarge = errors.New("qr: image too large")
)

// Strategy names one way of looking for a code in a frame: a binarizer, the
// gozxing hints given to the QR reader, and whether the frame is inverted.
// Result.Strategy says which one found the code.
type Strategy uint8

// The strategies, in the order a Decoder tries them (after the one that
// last succeeded, which it tries first).
const (
	// Hybrid is gozxing's local-threshold binarizer and its finder-pattern
	// search, as a phone app would use it. It is the fast path for frames.
	Hybrid Strategy = iota + 1
	// HybridPure reads the hybrid-binarized frame as a clean rendering
	// (gozxing's PURE_BARCODE hint): no finder-pattern search, so data
	// that mimics a finder pattern cannot mislead it. gozxing's pure reader
	// expects an upright code; this strategy also tries the frame turned
	// by 90°, 180° and 270°.
	HybridPure
	// Smoothed is Hybrid over the frame passed through a 3x3 box blur,
	// which evens out the sensor noise of a cheap camera that otherwise
	// speckles the white of small modules.
	Smoothed
	// SmoothedGlobal is the global-histogram binarizer over the blurred
	// frame, with TRY_HARDER: it reads noisy codes of about 3 pixels a
	// module that Smoothed misses.
	SmoothedGlobal
	// HybridHarder searches every row for finder patterns (TRY_HARDER).
	HybridHarder
	// GlobalHarder uses the global-histogram binarizer, which copes better
	// with some low-contrast frames, with TRY_HARDER.
	GlobalHarder
	// InvertedHarder looks for a light-on-dark code, with TRY_HARDER.
	InvertedHarder
	// InvertedPure is HybridPure over the inverted frame.
	InvertedPure

	numStrategies = iota
)

var strategyNames = [...]string{
	Hybrid:         "hybrid",
	HybridPure:     "hybrid-pure",
	Smoothed:       "smoothed",
	SmoothedGlobal: "smoothed-global",
	HybridHarder:   "hybrid-harder",
	GlobalHarder:   "global-harder",
	InvertedHarder: "inverted-harder",
	InvertedPure:   "inverted-pure",
}

func (s Strategy) String() string {
	if s > 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// binarizer says which binarizer, over which source, a strategy needs.
type binarizer uint8

const (
	binHybrid binarizer = iota
	binGlobal
	binInverted
	binSmoothed
	binSmoothedGlobal
	numBinarizers
)

type strategyInfo struct {
	bin   binarizer
	hints map[gozxing.DecodeHintType]any
}

var (
	hintsNone   = map[gozxing.DecodeHintType]any{}
	hintsHarder = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	hintsPure   = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
)

var strategies = [...]strategyInfo{
	Hybrid:         {binHybrid, hintsNone},
	HybridPure:     {binHybrid, hintsPure},
	Smoothed:       {binSmoothed, hintsNone},
	SmoothedGlobal: {binSmoothedGlobal, hintsHarder},
	HybridHarder:   {binHybrid, hintsHarder},
	GlobalHarder:   {binGlobal, hintsHarder},
	InvertedHarder: {binInverted, hintsHarder},
	InvertedPure:   {binInverted, hintsPure},
}

// Result is one decoded code.
type Result struct {
	// Text is the code's content exactly as gozxing's decoder returned it
	// after Reed–Solomon correction.
	Text string
	// Points are the positions gozxing reports, in the coordinates of the
	// image given to Decode: for a finder-pattern decode the centres of
	// the bottom-left, top-left and top-right finder patterns, then the
	// alignment pattern when one was found. A pure decode (HybridPure,
	// InvertedPure) reports none.
	Points []image.Point
	// Strategy is the strategy that found the code.
	Strategy Strategy
}

// A Decoder reads QR codes from frames. It keeps state between frames (the
// strategy that last succeeded is tried first, and where the round of
// fallbacks stands), so use one Decoder per camera. A Decoder is not safe
// for concurrent use. The zero value is ready to use, as is NewDecoder's.
type Decoder struct {
	// Fallbacks bounds how many strategies besides Hybrid (and besides
	// the one that last succeeded) one call tries; successive calls take
	// the fallbacks in turn. Zero means all of them on every call, which
	// suits a still image. For a live camera, where a code stays in view
	// for many frames, 1 or 2 bounds the cost of the many frames without
	// a code, while every strategy still gets its turn within a few
	// frames.
	Fallbacks int

	reader gozxing.Reader
	// strategies limits the strategies tried, in order; nil means all.
	strategies []Strategy
	// last is the strategy that last found a code, or 0.
	last Strategy
	// next is the index, in the fallbacks, of the one to try first on
	// the next call when Fallbacks is set.
	next int
	// smooth and sums are scratch space for the Smoothed strategy, kept
	// from frame to frame.
	smooth []byte
	sums   []uint16
}

// NewDecoder returns a Decoder that tries every strategy on every call.
func NewDecoder() *Decoder {
	return &Decoder{}
}

// Decode returns the text of the QR code in img, or ErrNotFound. It reads
// img in place, never modifies it, and never panics.
func Decode(img *image.Gray) (string, error) {
	r, err := NewDecoder().Decode(img)
	if err != nil {
		return "", err
	}
	return r.Text, nil
}

// Decode looks for one QR code in img and returns it. It tries the
// strategy that last succeeded first, then Hybrid, then the others in
// their order (or as many as Fallbacks allows, in turn), and returns the
// first text gozxing's decoder returns. It returns ErrNotFound
// when no strategy finds a code (wrapped, with a note, if gozxing
// panicked), ErrTooLarge for an image over MaxDimension, and an error for a
// malformed image (nil, or Pix too short for Rect and Stride).
func (d *Decoder) Decode(img *image.Gray) (Result, error) {
	src, err := newGraySource(img)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrTooLarge) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("qr: %w", err)
	}
	if d.reader == nil {
		d.reader = qrcode.NewQRCodeReader()
	}
	f := &frame{src: src}
	var panicked error
	try := func(s Strategy) (Result, bool) {
		r, err := d.attempt(f, s)
		if err != nil {
			var pe panicError
			if errors.As(err, &pe) && panicked == nil {
				panicked = err
			}
			return Result{}, false
		}
		r.Points = offsetPoints(r.Points, img.Rect.Min)
		d.last = s
		return r, true
	}
	order := d.order()
	if d.last != 0 {
		if r, ok := try(d.last); ok {
			return r, nil
		}
	}
	// The first strategy, then the fallbacks, in turn from d.next.
	if first := order[0]; first != d.last {
		if r, ok := try(first); ok {
			return r, nil
		}
	}
	fallbacks := order[1:]
	budget := len(fallbacks)
	if d.Fallbacks > 0 && d.Fallbacks < budget {
		budget = d.Fallbacks
	}
	start := d.next
	for k := 0; k < len(fallbacks) && budget > 0; k++ {
		i := (start + k) % len(fallbacks)
		s := fallbacks[i]
		if s == d.last {
			continue
		}
		budget--
		if d.Fallbacks > 0 {
			d.next = i + 1
		}
		if r, ok := try(s); ok {
			return r, nil
		}
	}
	d.last = 0
	if panicked != nil {
		return Result{}, fmt.Errorf("%w (%v)", ErrNotFound, panicked)
	}
	return Result{}, ErrNotFound
}

func (d *Decoder) order() []Strategy {
	if d.strategies != nil {
		return d.strategies
	}
	return allStrategies
}

var allStrategies = func() []Strategy {
	s := make([]Strategy, 0, numStrategies)
	for i := Strategy(1); i <= numStrategies; i++ {
		s = append(s, i)
	}
	return s
}()

// panicError is a panic inside gozxing, turned into an error.
type panicError struct{ v any }

func (e panicError) Error() string { return fmt.Sprintf("gozxing panicked: %v", e.v) }

// frame is what a Decoder builds for one frame, at most once each.
type frame struct {
	src     *graySource
	smooth  *graySource
	bitmaps [numBinarizers]*gozxing.BinaryBitmap
}

// attempt runs one strategy, building (once per frame) the bitmap it
// needs. A panic in gozxing becomes a panicError.
func (d *Decoder) attempt(f *frame, s Strategy) (r Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			r, err = Result{}, panicError{v}
		}
	}()
	info := strategies[s]
	bm := f.bitmaps[info.bin]
	if bm == nil {
		var b gozxing.Binarizer
		switch info.bin {
		case binHybrid:
			b = gozxing.NewHybridBinarizer(f.src)
		case binGlobal:
			b = gozxing.NewGlobalHistgramBinarizer(f.src)
		case binInverted:
			b = gozxing.NewHybridBinarizer(f.src.Invert())
		case binSmoothed:
			b = gozxing.NewHybridBinarizer(d.smoothed(f))
		case binSmoothedGlobal:
			b = gozxing.NewGlobalHistgramBinarizer(d.smoothed(f))
		}
		bm, err = gozxing.NewBinaryBitmap(b)
		if err != nil {
			return Result{}, err
		}
		f.bitmaps[info.bin] = bm
	}
	var res *gozxing.Result
	if _, pure := info.hints[gozxing.DecodeHintType_PURE_BARCODE]; pure {
		res, err = d.decodePure(bm)
	} else {
		res, err = d.reader.Decode(bm, info.hints)
	}
	if err != nil {
		return Result{}, err
	}
	if res == nil {
		return Result{}, ErrNotFound
	}
	var pts []image.Point
	for _, p := range res.GetResultPoints() {
		if p == nil {
			continue
		}
		x, y := p.GetX(), p.GetY()
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			continue
		}
		pts = append(pts, image.Pt(int(math.Round(x)), int(math.Round(y))))
	}
	return Result{Text: res.GetText(), Points: pts, Strategy: s}, nil
}

// smoothed returns f's source passed through a 3x3 box blur (edges
// repeated), in the Decoder's scratch space, computing it once per frame.
func (d *Decoder) smoothed(f *frame) *graySource {
	if f.smooth != nil {
		return f.smooth
	}
	src := f.src
	w, h := src.width, src.height
	n := w * h
	if cap(d.smooth) < n {
		d.smooth = make([]byte, n)
		d.sums = make([]uint16, n)
	}
	out, sums := d.smooth[:n], d.sums[:n]
	// Horizontal sums of three.
	for y := range h {
		in := src.pix[(src.top+y)*src.stride+src.left:][:w]
		row := sums[y*w : (y+1)*w]
		for x := range w {
			l, r := max(x-1, 0), min(x+1, w-1)
			row[x] = uint16(in[l]) + uint16(in[x]) + uint16(in[r])
		}
	}
	// Vertical sums of those, over nine.
	for y := range h {
		up, mid, down := sums[max(y-1, 0)*w:][:w], sums[y*w:][:w], sums[min(y+1, h-1)*w:][:w]
		row := out[y*w : (y+1)*w]
		for x := range w {
			row[x] = uint8((uint32(up[x]) + uint32(mid[x]) + uint32(down[x]) + 4) / 9)
		}
	}
	if src.invert {
		for i := range out {
			out[i] = 255 - out[i]
		}
	}
	f.smooth = &graySource{pix: out, stride: w, width: w, height: h}
	return f.smooth
}

// decodePure runs gozxing's pure reader over bm's black matrix and, if
// that fails, over the matrix turned by 90°, 180° and 270°. The frame
// itself is not rotated: only the 1-bit code, cut out of the matrix, is.
// A frame whose black pixels do not span a square (any camera frame with
// a background) cannot be a clean rendering, and is refused at once.
func (d *Decoder) decodePure(bm *gozxing.BinaryBitmap) (*gozxing.Result, error) {
	m, err := bm.GetBlackMatrix()
	if err != nil {
		return nil, err
	}
	box := m.GetEnclosingRectangle()
	if box == nil {
		return nil, ErrNotFound
	}
	left, top, w, h := box[0], box[1], box[2], box[3]
	// Version 1 is 21 modules; allow a pixel or two of rounding.
	if w < 21 || h < 21 || abs(w-h) > 2+max(w, h)/64 {
		return nil, ErrNotFound
	}
	res, err := d.reader.Decode(bm, hintsPure)
	if err == nil {
		return res, nil
	}
	code, err2 := gozxing.NewBitMatrix(w, h)
	if err2 != nil {
		return nil, err
	}
	for y := range h {
		for x := range w {
			if m.Get(left+x, top+y) {
				code.Set(x, y)
			}
		}
	}
	for range 3 {
		code.Rotate90()
		rbm, err2 := gozxing.NewBinaryBitmap(fixedBinarizer{code})
		if err2 != nil {
			return nil, err
		}
		if res, err2 := d.reader.Decode(rbm, hintsPure); err2 == nil {
			return res, nil
		}
	}
	return nil, err
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// fixedBinarizer is a gozxing.Binarizer whose black matrix is given. The
// QR reader only asks for the matrix.
type fixedBinarizer struct{ m *gozxing.BitMatrix }

func (b fixedBinarizer) GetLuminanceSource() gozxing.LuminanceSource { return nil }
func (b fixedBinarizer) GetBlackMatrix() (*gozxing.BitMatrix, error) { return b.m, nil }
func (b fixedBinarizer) GetWidth() int                               { return b.m.GetWidth() }
func (b fixedBinarizer) GetHeight() int                              { return b.m.GetHeight() }

func (b fixedBinarizer) GetBlackRow(y int, row *gozxing.BitArray) (*gozxing.BitArray, error) {
	if y < 0 || y >= b.m.GetHeight() {
		return nil, fmt.Errorf("qr: row %d outside 0..%d", y, b.m.GetHeight()-1)
	}
	return b.m.GetRow(y, row), nil
}

func (b fixedBinarizer) CreateBinarizer(gozxing.LuminanceSource) gozxing.Binarizer { return b }

func offsetPoints(pts []image.Point, min image.Point) []image.Point {
	for i := range pts {
		pts[i] = pts[i].Add(min)
	}
	return pts
}
