package qr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
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
	// Multi is the hybrid binarizer with gozxing's multiple-code finder,
	// which lists every plausible triple of finder patterns rather than
	// the first three it confirms (the likest 16 are decoded): the
	// defence against the fake finder patterns that random-looking data
	// draws.
	Multi
	// Half is Hybrid over the frame scaled to half its width and height
	// by averaging 2x2 blocks: a quarter of the pixels, less noise and
	// blur per module, for codes of many pixels a module.
	Half
	// HalfMulti is Multi over the half-size frame.
	HalfMulti
	// Sharpened is Hybrid over the frame with its 3x3 blur subtracted
	// (an unsharp mask), which restores the edges of a defocused code.
	Sharpened
	// Double is Hybrid over the frame scaled up twice (bilinear), for
	// codes of 1–2 pixels a module. Only frames up to DoubleMaxPixels
	// are scaled.
	Double
	// DoubleSharp is Hybrid over the doubled frame, sharpened: small,
	// defocused codes.
	DoubleSharp
	// Regrid is the hybrid binarizer's finder patterns with the grid
	// sampled at each dimension near the one their spacing suggests
	// (see regrid): codes under strong perspective.
	Regrid
	// HalfRegrid is Regrid over the half-size frame.
	HalfRegrid
	// Turned is Hybrid over the frame turned by 45° (the half-size frame
	// for frames over DoubleMaxPixels): a code turned by about 45°
	// becomes upright, where gozxing samples small modules best.
	Turned

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
	Multi:          "multi",
	Half:           "half",
	HalfMulti:      "half-multi",
	Sharpened:      "sharpened",
	Double:         "double",
	DoubleSharp:    "double-sharp",
	Turned:         "turned",
	Regrid:         "regrid",
	HalfRegrid:     "half-regrid",
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
	binHalf
	binSharp
	binDouble
	binDoubleSharp
	binTurned
	numBinarizers
)

type strategyInfo struct {
	bin    binarizer
	hints  map[gozxing.DecodeHintType]any
	multi  bool // gozxing's multiple-code reader
	regrid bool // regrid, not gozxing's detector
}

var (
	hintsNone   = map[gozxing.DecodeHintType]any{}
	hintsHarder = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	hintsPure   = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
)

var strategies = [...]strategyInfo{
	Hybrid:         {bin: binHybrid, hints: hintsNone},
	HybridPure:     {bin: binHybrid, hints: hintsPure},
	Smoothed:       {bin: binSmoothed, hints: hintsNone},
	SmoothedGlobal: {bin: binSmoothedGlobal, hints: hintsHarder},
	HybridHarder:   {bin: binHybrid, hints: hintsHarder},
	GlobalHarder:   {bin: binGlobal, hints: hintsHarder},
	InvertedHarder: {bin: binInverted, hints: hintsHarder},
	InvertedPure:   {bin: binInverted, hints: hintsPure},
	Multi:          {bin: binHybrid, hints: hintsNone, multi: true},
	Half:           {bin: binHalf, hints: hintsNone},
	HalfMulti:      {bin: binHalf, hints: hintsNone, multi: true},
	Sharpened:      {bin: binSharp, hints: hintsNone},
	Double:         {bin: binDouble, hints: hintsNone},
	DoubleSharp:    {bin: binDoubleSharp, hints: hintsNone},
	Turned:         {bin: binTurned, hints: hintsNone},
	Regrid:         {bin: binHybrid, hints: hintsNone, regrid: true},
	HalfRegrid:     {bin: binHalf, hints: hintsNone, regrid: true},
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
	// Fallbacks bounds how many strategies besides the first (Regrid, or
	// HalfRegrid over DoubleMaxPixels) and the one that last succeeded
	// one call tries; successive calls take the fallbacks in turn. Zero
	// means all of them on every call, which suits a still image. For a live camera, where a code stays in view
	// for many frames, 1 or 2 bounds the cost of the many frames without
	// a code, while every strategy still gets its turn within a few
	// frames.
	Fallbacks int

	// Budget bounds the time one call spends: no fallback starts once
	// Budget has passed since the call began, nor one that, by its
	// average cost on earlier frames of the same size and half as much again, would end past
	// it (a cheaper one after it may still run). Zero means no bound. For a live camera, a little under
	// the frame interval (say 20ms at 30 fps) keeps the decoder in step
	// with the camera.
	Budget time.Duration

	reader gozxing.Reader
	// strategies limits the strategies tried, in order; nil means all.
	strategies []Strategy
	// last is the strategy that last found a code, or 0.
	last Strategy
	// next is the index, in the fallbacks, of the one to try first on
	// the next call when Fallbacks is set.
	next int
	// roi is the region of interest, in frame coordinates, around the
	// code last found in a frame of roiFrame pixels; empty for none.
	roi      image.Rectangle
	roiFrame image.Point
	// cost is each strategy's running average time on whole frames of
	// costFrame pixels, for Budget.
	cost      [numStrategies + 1]time.Duration
	costFrame image.Point
	// smooth and sums are scratch space for the Smoothed strategy, kept
	// from frame to frame.
	smooth []byte
	sums   []uint16
	half   []byte
	sharp  []byte
	double []byte
	dsharp []byte
}

// DoubleMaxPixels is the largest frame, in pixels, that the Double
// strategy scales up.
const DoubleMaxPixels = 640 * 480

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
// strategy that last succeeded first, then the first of its order (Regrid,
// or HalfRegrid on a frame over DoubleMaxPixels), then the others in
// their order (or as many as Fallbacks allows, in turn), and returns the
// first text gozxing's decoder returns. It returns ErrNotFound
// when no strategy finds a code (wrapped, with a note, if gozxing
// panicked), ErrTooLarge for an image over MaxDimension, and an error for a
// malformed image (nil, or Pix too short for Rect and Stride).
func (d *Decoder) Decode(img *image.Gray) (Result, error) {
	return d.DecodeContext(context.Background(), img)
}

// DecodeContext is Decode that gives up once ctx is done: it starts no
// strategy after that and returns ctx's error. A strategy under way runs
// to its end (gozxing cannot be stopped), so giving up takes at most the
// dearest strategy's time on img: milliseconds for a camera frame, up
// to seconds for an image of MaxDimension a side (docs/qr.md, "Time").
func (d *Decoder) DecodeContext(ctx context.Context, img *image.Gray) (Result, error) {
	start := time.Now()
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
	var panicked error
	gaveUp := false // a strategy was left out because ctx was done
	size := image.Pt(src.width, src.height)
	if d.costFrame != size {
		d.cost, d.costFrame = [numStrategies + 1]time.Duration{}, size
	}
	try := func(f *frame, s Strategy, at image.Point) (Result, bool) {
		if ctx.Err() != nil {
			gaveUp = true
			return Result{}, false
		}
		t0 := time.Now()
		r, err := d.attempt(f, s)
		if f.src.width == size.X && f.src.height == size.Y {
			d.learn(s, time.Since(t0))
		}
		if err != nil {
			var pe panicError
			if errors.As(err, &pe) && panicked == nil {
				panicked = err
			}
			return Result{}, false
		}
		r.Points = offsetPoints(r.Points, at)
		d.last = s
		d.remember(r.Points, size)
		r.Points = offsetPoints(r.Points, img.Rect.Min)
		return r, true
	}
	// The region around the code last found, with the strategy that
	// found it: a fraction of the frame's cost while the code stays.
	if d.last != 0 && !d.roi.Empty() && d.roiFrame == size {
		roi := d.roi
		if crop, err := src.Crop(roi.Min.X, roi.Min.Y, roi.Dx(), roi.Dy()); err == nil {
			if r, ok := try(&frame{src: crop.(*graySource)}, d.last, roi.Min); ok {
				return r, nil
			}
		}
	}
	d.roi = image.Rectangle{}
	f := &frame{src: src}
	order := d.order()
	if d.strategies == nil && size.X*size.Y > DoubleMaxPixels {
		order = largeOrder
	}
	// The strategy that last succeeded, unless it is one of the dear
	// ones and the call has a budget to keep.
	if d.last != 0 && (d.Budget == 0 || d.cost[d.last] <= d.Budget/4) {
		if r, ok := try(f, d.last, image.Point{}); ok {
			return r, nil
		}
	} else {
		d.last = 0
	}
	// The first strategy, then the fallbacks, in turn from d.next.
	if first := order[0]; first != d.last {
		if r, ok := try(f, first, image.Point{}); ok {
			return r, nil
		}
	}
	fallbacks := order[1:]
	budget := len(fallbacks)
	if d.Fallbacks > 0 && d.Fallbacks < budget {
		budget = d.Fallbacks
	}
	begin := d.next
	for k := 0; k < len(fallbacks) && budget > 0; k++ {
		i := (begin + k) % len(fallbacks)
		s := fallbacks[i]
		if s == d.last {
			continue
		}
		if ctx.Err() != nil {
			gaveUp = true
			break
		}
		if d.Budget > 0 {
			// Stop when the time is up; skip a strategy that would
			// overrun it, by half as much again as it cost on earlier
			// frames (costs vary with what the frame holds), for a
			// cheaper one further on.
			spent := time.Since(start)
			if spent >= d.Budget {
				break
			}
			if spent+d.cost[s]*3/2 > d.Budget {
				// Its cost is known only from the frames it ran on: an
				// eighth off each time it is skipped, so that one dear
				// frame does not keep it from running for good.
				d.cost[s] -= d.cost[s] / 8
				continue
			}
		}
		budget--
		if d.Fallbacks > 0 {
			d.next = i + 1
		}
		if r, ok := try(f, s, image.Point{}); ok {
			return r, nil
		}
	}
	if gaveUp {
		return Result{}, ctx.Err()
	}
	d.last = 0
	if panicked != nil {
		return Result{}, fmt.Errorf("%w (%v)", ErrNotFound, panicked)
	}
	return Result{}, ErrNotFound
}

// learn folds one measured cost of strategy s into its running average.
// The first strategy on a frame also pays for building the bitmap it
// shares with others, so the averages lean high, which errs on the side
// of the budget.
func (d *Decoder) learn(s Strategy, t time.Duration) {
	if d.cost[s] == 0 {
		d.cost[s] = t
		return
	}
	d.cost[s] = (3*d.cost[s] + t) / 4
}

// remember keeps, as the region of interest for the next frame, the box
// around pts (in frame coordinates) grown by its own size on every side,
// which holds the whole code and its quiet zone with room for the code to
// move. With fewer than three points (a pure decode), or a box that
// would cover most of the frame anyway, it keeps none.
func (d *Decoder) remember(pts []image.Point, size image.Point) {
	d.roi = image.Rectangle{}
	if len(pts) < 3 {
		return
	}
	box := image.Rectangle{Min: pts[0], Max: pts[0].Add(image.Pt(1, 1))}
	for _, p := range pts[1:] {
		box = box.Union(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	}
	grow := max(box.Dx(), box.Dy())
	box = box.Inset(-grow).Intersect(image.Rectangle{Max: size})
	if box.Dx()*box.Dy() > size.X*size.Y/2 || box.Dx() < 21 || box.Dy() < 21 {
		return
	}
	d.roi, d.roiFrame = box, size
}

func (d *Decoder) order() []Strategy {
	if d.strategies != nil {
		return d.strategies
	}
	return defaultOrder
}

// defaultOrder is the order a Decoder tries strategies in: by codes
// found per millisecond on the camtest set (docs/qr.md), greedily, with
// the strategies for rendered and inverted images, which a camera rarely
// sees, and those the set shows add nothing, last. Regrid comes first, not
// Hybrid: it reads what Hybrid reads, and more, at about the same cost.
var defaultOrder = []Strategy{
	Regrid, HalfRegrid, Double, DoubleSharp, Smoothed, GlobalHarder,
	HalfMulti, Multi, Half, SmoothedGlobal, Turned, Sharpened, HybridPure,
	InvertedHarder, InvertedPure, Hybrid, HybridHarder,
}

// largeOrder is defaultOrder for frames over DoubleMaxPixels, where the
// half-size frame costs a quarter as much as the whole and reads most
// codes, so it comes first.
var largeOrder = func() []Strategy {
	o := slices.Clone(defaultOrder)
	o[0], o[1] = o[1], o[0]
	return o
}()

// maxFinderCandidates bounds the finder-pattern candidates one search
// may confirm. gozxing picks its three patterns by trying every triple of
// candidates, which costs the cube of their number: a frame of noise
// confirms thousands, and the search of an 8192-pixel square of random
// grey took minutes. Codes on camera-like frames (TestCamtest's, every
// class) give at most a few dozen.
const maxFinderCandidates = 200

// maxHarderCost bounds w·h² of a frame that gozxing's finder search
// reads with TRY_HARDER. That search steps every third row, and every
// 1:1:3:1:1 run it meets on a row (one every six pixels of a sheet of
// stripes) scans its centre column, up to the frame's height, before the
// candidate is refused: w·h²/18 pixel reads, and none is confirmed, so
// maxFinderCandidates does not cut it short (most of a minute for one
// strategy at MaxDimension a side). On a larger frame the harder
// strategies search as the plain one does, every h/388 rows, at a cost
// in proportion to the pixels. Camera frames and a phone's screenshot
// (1080×2400, upright) keep TRY_HARDER.
const maxHarderCost = 1080 * 2400 * 2400

// searchHints returns hints for a search of a w×h bitmap: without
// TRY_HARDER past maxHarderCost.
func searchHints(hints map[gozxing.DecodeHintType]any, w, h int) map[gozxing.DecodeHintType]any {
	if _, harder := hints[gozxing.DecodeHintType_TRY_HARDER]; harder && int64(w)*int64(h)*int64(h) > maxHarderCost {
		return hintsNone
	}
	return hints
}

// errNoise is the panic with which a search that confirmed more than
// maxFinderCandidates candidates is cut short (gozxing's search cannot be
// stopped otherwise); attempt returns it as its error.
var errNoise = fmt.Errorf("%w: too many finder-pattern candidates", ErrNotFound)

// boundedSearch returns hints with a result-point callback that counts the
// finder-pattern candidates gozxing's search confirms, passing each to
// also (if not nil), and panics with errNoise past limit.
func boundedSearch(hints map[gozxing.DecodeHintType]any, limit int, also func(*detector.FinderPattern)) map[gozxing.DecodeHintType]any {
	n := 0
	h := make(map[gozxing.DecodeHintType]any, len(hints)+1)
	maps.Copy(h, hints)
	h[gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK] = gozxing.ResultPointCallback(func(p gozxing.ResultPoint) {
		fp, ok := p.(*detector.FinderPattern)
		if !ok {
			return // an alignment pattern
		}
		if n++; n > limit {
			panic(errNoise)
		}
		if also != nil {
			also(fp)
		}
	})
	return h
}

// panicError is a panic inside gozxing, turned into an error.
type panicError struct{ v any }

func (e panicError) Error() string { return fmt.Sprintf("gozxing panicked: %v", e.v) }

// frame is what a Decoder builds for one frame, at most once each.
type frame struct {
	src    *graySource
	smooth *graySource
	half   *graySource
	sharp  *graySource
	double *graySource
	// turn maps a point of the turned frame back to the frame.
	turn    func(x, y float64) (float64, float64)
	bitmaps [numBinarizers]*gozxing.BinaryBitmap
}

// attempt runs one strategy, building (once per frame) the bitmap it
// needs. A panic in gozxing becomes a panicError; a search cut short for
// noise, errNoise.
func (d *Decoder) attempt(f *frame, s Strategy) (r Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == errNoise {
				r, err = Result{}, errNoise
				return
			}
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
		case binHalf:
			hs := d.halved(f)
			if hs == nil {
				return Result{}, ErrNotFound
			}
			b = gozxing.NewHybridBinarizer(hs)
		case binSharp:
			b = gozxing.NewHybridBinarizer(d.sharpened(f))
		case binDouble:
			ds := d.doubled(f)
			if ds == nil {
				return Result{}, ErrNotFound
			}
			b = gozxing.NewHybridBinarizer(ds)
		case binDoubleSharp:
			ds := d.doubled(f)
			if ds == nil {
				return Result{}, ErrNotFound
			}
			b = gozxing.NewHybridBinarizer(d.doubleSharpened(ds))
		case binTurned:
			b = gozxing.NewHybridBinarizer(d.turned(f))
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
	} else if info.regrid {
		var m *gozxing.BitMatrix
		if m, err = bm.GetBlackMatrix(); err == nil {
			res, err = regrid(m, info.hints)
		}
	} else if info.multi {
		var m *gozxing.BitMatrix
		if m, err = bm.GetBlackMatrix(); err == nil {
			res, err = decodeMulti(m, info.hints)
		}
	} else {
		hints := searchHints(info.hints, bm.GetWidth(), bm.GetHeight())
		res, err = d.reader.Decode(bm, boundedSearch(hints, maxFinderCandidates, nil))
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
		switch info.bin {
		case binHalf:
			x, y = 2*x+0.5, 2*y+0.5
		case binDouble, binDoubleSharp:
			x, y = x/2, y/2
		case binTurned:
			x, y = f.turn(x, y)
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
	out := boxBlurInto(src, scratch(&d.smooth, n), scratch(&d.sums, n))
	if src.invert {
		invertAll(out)
	}
	f.smooth = &graySource{pix: out, stride: w, width: w, height: h}
	return f.smooth
}

// scratch returns (*b)[:n], growing *b first when it is shorter: the
// Decoder's buffers, reused from frame to frame.
func scratch[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	return (*b)[:n]
}

// halved returns f's source scaled to half its width and height by
// averaging 2x2 blocks, in the Decoder's scratch space, computing it once
// per frame; nil for a frame too small to halve.
func (d *Decoder) halved(f *frame) *graySource {
	if f.half != nil {
		return f.half
	}
	src := f.src
	w, h := src.width/2, src.height/2
	if w < 21 || h < 21 {
		return nil
	}
	n := w * h
	out := scratch(&d.half, n)
	for y := range h {
		r0 := src.pix[(src.top+2*y)*src.stride+src.left:][:2*w]
		r1 := src.pix[(src.top+2*y+1)*src.stride+src.left:][:2*w]
		row := out[y*w : (y+1)*w]
		for x := range w {
			row[x] = uint8((uint16(r0[2*x]) + uint16(r0[2*x+1]) + uint16(r1[2*x]) + uint16(r1[2*x+1]) + 2) / 4)
		}
	}
	f.half = &graySource{pix: out, stride: w, width: w, height: h, invert: src.invert}
	return f.half
}

// sharpened returns f's source with an unsharp mask (2×pixel − its 3x3
// blur), computed once per frame.
func (d *Decoder) sharpened(f *frame) *graySource {
	if f.sharp != nil {
		return f.sharp
	}
	f.sharp = unsharp(f.src, d.smoothed(f).pix, scratch(&d.sharp, f.src.width*f.src.height))
	return f.sharp
}

// doubled returns f's source scaled up twice, bilinear, computed once per
// frame; nil for a frame over DoubleMaxPixels.
func (d *Decoder) doubled(f *frame) *graySource {
	if f.double != nil {
		return f.double
	}
	src := f.src
	w, h := src.width, src.height
	if w*h > DoubleMaxPixels {
		return nil
	}
	W, H := 2*w, 2*h
	out := scratch(&d.double, W*H)
	// Output pixel centres fall a quarter of an input pixel from the
	// nearest input centre: weights 3:1 along each axis, edges repeated.
	col := make([]uint16, w) // one vertically blended row, ×4
	for Y := range H {
		y0 := (Y - 1) >> 1 // the input row above, or -1
		r0 := src.pix[(src.top+max(y0, 0))*src.stride+src.left:][:w]
		r1 := src.pix[(src.top+min(y0+1, h-1))*src.stride+src.left:][:w]
		w0, w1 := uint16(1), uint16(3) // even Y: nearer row y0+1
		if Y&1 == 1 {
			w0, w1 = 3, 1
		}
		for x := range w {
			col[x] = w0*uint16(r0[x]) + w1*uint16(r1[x])
		}
		row := out[Y*W:][:W]
		row[0] = uint8((col[0] + 2) / 4)
		for x := 0; x+1 < w; x++ {
			a, b := col[x], col[x+1]
			row[2*x+1] = uint8((3*a + b + 8) / 16)
			row[2*x+2] = uint8((a + 3*b + 8) / 16)
		}
		row[W-1] = uint8((col[w-1] + 2) / 4)
	}
	f.double = &graySource{pix: out, stride: W, width: W, height: H, invert: src.invert}
	return f.double
}

// doubleSharpened returns ds (the doubled frame) with an unsharp mask
// (2×pixel − its 3x3 blur), in the Decoder's scratch space: the blur is
// built in the buffer and sharpened in place.
func (d *Decoder) doubleSharpened(ds *graySource) *graySource {
	n := ds.width * ds.height
	// sums is only scratch while a blur is built; the smoothed frame
	// lives in d.smooth.
	blur := boxBlurInto(ds, scratch(&d.dsharp, n), scratch(&d.sums, n))
	if ds.invert {
		invertAll(blur)
	}
	return unsharp(ds, blur, blur)
}

// invertAll turns every pixel of b to its negative.
func invertAll(b []byte) {
	for i := range b {
		b[i] = 255 - b[i]
	}
}

// boxBlurInto writes src through a 3x3 box blur (edges repeated) into out,
// laid out compactly, using sums as scratch; both hold width×height.
func boxBlurInto(src *graySource, out []byte, sums []uint16) []byte {
	w, h := src.width, src.height
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
	return out
}

// unsharp writes 2×src − blur, clamped, into out and returns it as a
// source; blur and the result are laid out compactly (width bytes a row)
// and hold the pixels as src is seen (inverted when it is). out may be
// blur itself.
func unsharp(src *graySource, blur, out []byte) *graySource {
	w, h := src.width, src.height
	for y := range h {
		in := src.pix[(src.top+y)*src.stride+src.left:][:w]
		b := blur[y*w:][:w]
		row := out[y*w:][:w]
		for x := range w {
			v := int(in[x])
			if src.invert {
				v = 255 - v
			}
			row[x] = uint8(min(255, max(0, 2*v-int(b[x]))))
		}
	}
	return &graySource{pix: out, stride: w, width: w, height: h}
}

// turned returns f's source (its half-size version for a frame over
// DoubleMaxPixels) turned by 45° about its centre, bilinear, in a square
// that holds the whole frame, mid-grey outside it; and sets f.turn.
func (d *Decoder) turned(f *frame) *graySource {
	src := f.src
	scale := 1.0
	if src.width*src.height > DoubleMaxPixels {
		if hs := d.halved(f); hs != nil {
			src, scale = hs, 2
		}
	}
	w, h := src.width, src.height
	side := int(float64(w+h)/math.Sqrt2) + 2
	out := make([]byte, side*side)
	c := math.Sqrt2 / 2
	cx, cy := float64(w)/2, float64(h)/2
	half := float64(side) / 2
	for Y := range side {
		for X := range side {
			// Turn (X, Y) about the square's centre back into the frame.
			u, v := float64(X)+0.5-half, float64(Y)+0.5-half
			x := c*(u+v) + cx - 0.5
			y := c*(v-u) + cy - 0.5
			if x < 0 || y < 0 || x >= float64(w-1) || y >= float64(h-1) {
				out[Y*side+X] = 128
				continue
			}
			x0, y0 := int(x), int(y)
			fx, fy := x-float64(x0), y-float64(y0)
			p := src.pix[(src.top+y0)*src.stride+src.left+x0:]
			q := src.pix[(src.top+y0+1)*src.stride+src.left+x0:]
			a := float64(p[0])*(1-fx) + float64(p[1])*fx
			b := float64(q[0])*(1-fx) + float64(q[1])*fx
			out[Y*side+X] = uint8(a*(1-fy) + b*fy + 0.5)
		}
	}
	f.turn = func(X, Y float64) (float64, float64) {
		u, v := X-half, Y-half
		return (c*(u+v) + cx) * scale, (c*(v-u) + cy) * scale
	}
	return &graySource{pix: out, stride: side, width: side, height: side, invert: src.invert}
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
