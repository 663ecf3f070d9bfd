package qr

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// Level is a QR error-correction level: the share of the code that can be
// damaged and still read. The zero Level is LevelM.
type Level uint8

// The error-correction levels. LevelM is first so that it is the zero value.
const (
	LevelM Level = iota // about 15% of the code can be restored
	LevelL              // about 7%
	LevelQ              // about 25%
	LevelH              // about 30%
)

func (l Level) String() string {
	switch l {
	case LevelL:
		return "L"
	case LevelM:
		return "M"
	case LevelQ:
		return "Q"
	case LevelH:
		return "H"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

func (l Level) ecLevel() (decoder.ErrorCorrectionLevel, error) {
	switch l {
	case LevelL:
		return decoder.ErrorCorrectionLevel_L, nil
	case LevelM:
		return decoder.ErrorCorrectionLevel_M, nil
	case LevelQ:
		return decoder.ErrorCorrectionLevel_Q, nil
	case LevelH:
		return decoder.ErrorCorrectionLevel_H, nil
	}
	return 0, fmt.Errorf("qr: unknown error-correction %v", l)
}

// Options says how Encode renders a code. The zero Options is level M, a
// 4-module quiet zone, and modules sized so the image is about 720 pixels
// square, which a phone screen shows well.
type Options struct {
	// Level is the error-correction level; the zero value is LevelM.
	Level Level
	// ModuleSize is the side of one module in pixels. Zero picks the
	// largest size that keeps the image within TargetSize pixels (at
	// least 1).
	ModuleSize int
	// QuietZone is the white margin in modules. Zero means 4, the minimum
	// the QR standard requires; a smaller positive value is refused.
	QuietZone int
}

// TargetSize is the image side, in pixels, that Encode aims for when
// Options.ModuleSize is zero.
const TargetSize = 720

// minQuietZone is the quiet zone, in modules, that the QR standard asks for.
const minQuietZone = 4

// Encode renders text as a QR code: black modules (0) on white (255),
// with the quiet zone included in the image.
//
// Every image Encode returns has been decoded by this package's
// finder-pattern path (the Hybrid strategy, as a phone or a gate camera
// reads it) to exactly text. When gozxing's first choice of mask pattern
// fails that check (the data can mimic a finder pattern), Encode renders
// the other mask patterns, lowest penalty first, then the next version
// up, and returns the first that passes; it returns an error only when
// none does.
func Encode(text string, opt Options) (*image.Gray, error) {
	img, _, err := encode(text, opt)
	return img, err
}

// encode is Encode, also returning how many renderings it verified.
func encode(text string, opt Options) (*image.Gray, int, error) {
	return encodeVerified(text, opt, newVerifier())
}

// encodeVerified is encode with a given verifier.
func encodeVerified(text string, opt Options, v verifier) (*image.Gray, int, error) {
	if text == "" {
		return nil, 0, errors.New("qr: empty text")
	}
	ec, err := opt.Level.ecLevel()
	if err != nil {
		return nil, 0, err
	}
	quiet := opt.QuietZone
	if quiet == 0 {
		quiet = minQuietZone
	}
	if quiet < minQuietZone {
		return nil, 0, fmt.Errorf("qr: quiet zone of %d modules, need at least %d", opt.QuietZone, minQuietZone)
	}
	if opt.ModuleSize < 0 || opt.ModuleSize > MaxDimension || quiet > MaxDimension {
		return nil, 0, fmt.Errorf("qr: module size %d or quiet zone %d out of range", opt.ModuleSize, opt.QuietZone)
	}
	hints := map[gozxing.EncodeHintType]any{}
	if !isASCII(text) {
		// Say UTF-8 in an ECI segment, so the decoder need not guess.
		hints[gozxing.EncodeHintType_CHARACTER_SET] = "UTF-8"
	}
	first, err := encoder.Encoder_encode(text, ec, hints)
	if err != nil {
		return nil, 0, fmt.Errorf("qr: encode: %w", err)
	}
	img, err := render(first, opt.ModuleSize, quiet)
	if err != nil {
		return nil, 0, err
	}
	if v.ok(first, img, quiet, text) {
		return img, 1, nil
	}
	alts, err := alternatives(text, ec, hints, first)
	if err != nil {
		return nil, 0, err
	}
	for i, code := range alts {
		img, err := render(code, opt.ModuleSize, quiet)
		if err != nil {
			return nil, 0, err
		}
		if v.ok(code, img, quiet, text) {
			return img, 2 + i, nil
		}
	}
	return nil, 0, fmt.Errorf("qr: none of %d renderings of the text decodes back", 1+len(alts))
}

// alternatives returns the codes to try after first failed verification:
// the other mask patterns at first's version, then every mask pattern one
// version up, each group ordered by the standard's mask penalty (lowest,
// that is most readable, first).
func alternatives(text string, ec decoder.ErrorCorrectionLevel, hints map[gozxing.EncodeHintType]any, first *encoder.QRCode) ([]*encoder.QRCode, error) {
	version := first.GetVersion().GetVersionNumber()
	var all []*encoder.QRCode
	for v := version; v <= version+1 && v <= 40; v++ {
		type scored struct {
			code    *encoder.QRCode
			penalty int
		}
		var group []scored
		for mask := range 8 {
			if v == version && mask == first.GetMaskPattern() {
				continue
			}
			h := make(map[gozxing.EncodeHintType]any, len(hints)+2)
			for k, x := range hints {
				h[k] = x
			}
			h[gozxing.EncodeHintType_QR_VERSION] = v
			h[gozxing.EncodeHintType_QR_MASK_PATTERN] = mask
			code, err := encoder.Encoder_encode(text, ec, h)
			if err != nil {
				return nil, fmt.Errorf("qr: encode version %d mask %d: %w", v, mask, err)
			}
			group = append(group, scored{code, penalty(code.GetMatrix())})
		}
		slices.SortStableFunc(group, func(a, b scored) int { return cmp.Compare(a.penalty, b.penalty) })
		for _, s := range group {
			all = append(all, s.code)
		}
	}
	return all, nil
}

// penalty is the QR standard's mask penalty score of a built matrix.
func penalty(m *encoder.ByteMatrix) int {
	return encoder.MaskUtil_applyMaskPenaltyRule1(m) +
		encoder.MaskUtil_applyMaskPenaltyRule2(m) +
		encoder.MaskUtil_applyMaskPenaltyRule3(m) +
		encoder.MaskUtil_applyMaskPenaltyRule4(m)
}

// verifier checks a rendering through the finder-pattern path only (the
// Hybrid strategy). The pure fallback would read any clean rendering, but
// a camera never sees one, so it proves nothing about a pass shown on a
// phone. Whether data mimics a finder pattern depends on the direction
// the rows are scanned in and on the scale, so the check decodes the
// rendering in all four orientations, and again at the small module sizes
// a camera frame typically holds.
type verifier struct {
	d           *Decoder
	moduleSizes []int // checked besides the rendered size
	turns       int   // orientations checked: 1 (upright only) to 4
}

// verifyModuleSizes are the module sizes, in pixels, that Encode checks
// besides the rendered one: a pass a few hundred pixels wide in a 640x480
// frame.
var verifyModuleSizes = []int{3, 4, 5}

func newVerifier() verifier {
	d := NewDecoder()
	d.strategies = []Strategy{Hybrid}
	return verifier{d: d, moduleSizes: verifyModuleSizes, turns: 4}
}

// ok reports whether img, the rendering of code, and code's renderings at
// v.moduleSizes all decode to text in every orientation checked.
func (v verifier) ok(code *encoder.QRCode, img *image.Gray, quiet int, text string) bool {
	if !v.allOrientations(img, text) {
		return false
	}
	moduleSize := img.Rect.Dx() / (code.GetMatrix().GetWidth() + 2*quiet)
	for _, ms := range v.moduleSizes {
		if ms == moduleSize {
			continue
		}
		small, err := render(code, ms, quiet)
		if err != nil || !v.allOrientations(small, text) {
			return false
		}
	}
	return true
}

func (v verifier) allOrientations(img *image.Gray, text string) bool {
	for i := range v.turns {
		if i > 0 {
			img = rotate90(img)
		}
		v.d.last = 0
		r, err := v.d.Decode(img)
		if err != nil || r.Text != text {
			return false
		}
	}
	return true
}

// rotate90 returns a copy of img turned 90° counter-clockwise.
func rotate90(img *image.Gray) *image.Gray {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, h, w))
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, p := range row {
			out.Pix[(w-1-x)*out.Stride+y] = p
		}
	}
	return out
}

// render draws code with the given module size (0 for the default) and
// quiet zone.
func render(code *encoder.QRCode, moduleSize, quiet int) (*image.Gray, error) {
	m := code.GetMatrix()
	if m == nil {
		return nil, errors.New("qr: encoder returned no matrix")
	}
	dim := m.GetWidth()
	n := dim + 2*quiet
	if moduleSize == 0 {
		moduleSize = max(1, TargetSize/n)
	}
	side := n * moduleSize
	if side > MaxDimension {
		return nil, fmt.Errorf("%w: rendering would be %dx%d pixels", ErrTooLarge, side, side)
	}
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for my := range dim {
		for mx := range dim {
			if m.Get(mx, my) != 1 {
				continue
			}
			x0, y0 := (quiet+mx)*moduleSize, (quiet+my)*moduleSize
			for y := y0; y < y0+moduleSize; y++ {
				row := img.Pix[y*img.Stride+x0 : y*img.Stride+x0+moduleSize]
				for i := range row {
					row[i] = 0
				}
			}
		}
	}
	return img, nil
}

// WritePNG writes img to w as an 8-bit grayscale PNG.
func WritePNG(w io.Writer, img *image.Gray) error {
	if img == nil {
		return errors.New("qr: nil image")
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("qr: write png: %w", err)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
