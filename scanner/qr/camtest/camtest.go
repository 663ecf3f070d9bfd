// Package camtest generates camera-like frames of QR passes, for testing
// and benchmarking decoders.
//
// Every frame holds one pass, issued with scanner.IssuePass under a random
// Ed25519 key and rendered with qr.Encode, then photographed in software: a
// phone screen in a textured scene, placed by a homography, and spoiled by
// one class of distortion. Everything derives from Options.Seed, so the
// same Options give the same frames, byte for byte, on every machine.
//
// # Classes
//
// Each class applies a mild base (a code 25–60% of the frame's short
// side, turned up to ±8°, slight blur and noise) and then its own
// distortion at a strength drawn uniformly from its range:
//
//	rotation     in-plane turn of 0–360°
//	perspective  corners moved by up to 22% of the code's side
//	scale        code side 15–95% of the frame's short side
//	defocus      Gaussian blur of 0.15–0.55 of a module
//	motion       a linear smear of 0.3–1.5 modules in any direction
//	noise        Gaussian sensor noise, sigma 10–40 grey levels
//	lowlight     exposure 6–25% of normal, with shot and read noise
//	uneven       a shadow gradient or a vignette down to 10–35%
//	glare        1–3 saturated elliptical reflections on the screen
//	screen       a phone's pixel grid (moiré) and backlit low contrast
//	jpeg         JPEG at quality 8–40
//
// Frames are 640×480 and 1280×720, alternately.
package camtest

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// Classes are the distortion classes, in the order Generate emits them.
var Classes = []string{
	"rotation", "perspective", "scale", "defocus", "motion", "noise",
	"lowlight", "uneven", "glare", "screen", "jpeg",
}

// Sizes are the frame sizes Generate uses, in turn.
var Sizes = []image.Point{{640, 480}, {1280, 720}}

// Case is one generated frame.
type Case struct {
	// Name is the distortion class, one of Classes.
	Name string
	// Index counts cases within the class, from 0.
	Index int
	// Frame is the camera's luminance plane.
	Frame *image.Gray
	// Text is what the frame's code holds.
	Text string
}

// Options says what Generate makes.
type Options struct {
	// Seed fixes every random choice.
	Seed uint64
	// PerClass is the number of frames per class; zero means 20.
	PerClass int
	// Classes limits the classes made; nil means all of Classes.
	Classes []string
}

// Generate returns PerClass frames of each class, class after class.
func Generate(opt Options) ([]Case, error) {
	var out []Case
	err := Each(opt, func(c Case) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// Each calls fn with each case Generate would return, one at a time, so a
// large set need not be held in memory. It stops at the first error fn
// returns.
func Each(opt Options, fn func(Case) error) error {
	per := opt.PerClass
	if per <= 0 {
		per = 20
	}
	classes := opt.Classes
	if classes == nil {
		classes = Classes
	}
	for ci, class := range classes {
		for i := range per {
			// One stream per case, so a case does not depend on which
			// others were generated.
			r := rand.New(rand.NewPCG(opt.Seed, uint64(ci)<<32|uint64(i)))
			c, err := generate(r, class, i, Sizes[i%len(Sizes)])
			if err != nil {
				return err
			}
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Pass issues a random pass under a random key drawn from r and returns
// its text.
func Pass(r *rand.Rand) (string, error) {
	var seed [ed25519.SeedSize]byte
	for i := range seed {
		seed[i] = byte(r.UintN(256))
	}
	key := ed25519.NewKeyFromSeed(seed[:])
	id := make([]byte, 16)
	for i := range id {
		id[i] = byte(r.UintN(256))
	}
	hh := make([]byte, 8+r.IntN(9))
	for i := range hh {
		hh[i] = byte(r.UintN(256))
	}
	issued := time.Unix(1_700_000_000+r.Int64N(100_000_000), 0)
	units := "ABCDEFGHJKLMNPRSTUVWXYZ"
	holder := fmt.Sprintf("%c.%c. %d-%d", units[r.IntN(len(units))], units[r.IntN(len(units))], 1+r.IntN(30), 100+r.IntN(2900))
	sites := []string{fmt.Sprintf("site-%d", r.IntN(1000))}
	if r.IntN(3) == 0 {
		sites = append(sites, fmt.Sprintf("site-%d-gate-%d", r.IntN(1000), r.IntN(9)))
	}
	p := &scanner.Pass{
		Issuer:    fmt.Sprintf("issuer-%d.example", r.IntN(100)),
		ID:        id,
		IssuedAt:  issued,
		NotBefore: issued,
		Expiry:    issued.Add(24 * time.Hour),
		Status:    scanner.Colour(r.IntN(3)),
		Index:     uint32(r.IntN(1 << 20)),
		Household: hh,
		Holder:    holder,
		Sites:     sites,
		Class:     scanner.Class(r.IntN(3)),
	}
	if r.IntN(4) == 0 {
		p.QuarantineUntil = issued.Add(14 * 24 * time.Hour)
	}
	return scanner.IssuePass(p, key)
}

// scene is what one frame is built from.
type scene struct {
	w, h    int
	modules []bool // n×n, true for dark
	n       int
	quiet   float64 // quiet zone, modules
	bezel   float64 // screen beyond the quiet zone, modules
	// quad are the frame positions of the symbol's corners (top-left,
	// top-right, bottom-right, bottom-left).
	quad  [4][2]float64
	black float64 // screen's dark and light levels, 0–255
	white float64
	grid  float64 // > 0: screen pixel pitch in modules (moiré)
}

func generate(r *rand.Rand, class string, index int, size image.Point) (Case, error) {
	text, err := Pass(r)
	if err != nil {
		return Case{}, fmt.Errorf("camtest: %w", err)
	}
	code, err := qr.Encode(text, qr.Options{ModuleSize: 1, QuietZone: 4})
	if err != nil {
		return Case{}, fmt.Errorf("camtest: %w", err)
	}
	side := code.Rect.Dx()
	n := side - 8
	mods := make([]bool, n*n)
	for y := range n {
		for x := range n {
			mods[y*n+x] = code.Pix[(y+4)*code.Stride+x+4] < 128
		}
	}
	s := &scene{w: size.X, h: size.Y, modules: mods, n: n, quiet: 4, bezel: 1 + r.Float64()*3,
		black: 20 + r.Float64()*30, white: 200 + r.Float64()*40}
	short := float64(min(size.X, size.Y))
	frac := 0.25 + r.Float64()*0.35
	angle := (r.Float64()*16 - 8) * math.Pi / 180
	persp := 0.03
	blur := 0.6                // pixels
	noise := 3 + r.Float64()*3 // grey levels
	switch class {
	case "rotation":
		angle = r.Float64() * 2 * math.Pi
	case "perspective":
		persp = 0.05 + r.Float64()*0.17
	case "scale":
		frac = 0.15 + r.Float64()*0.80
	case "screen":
		s.black = 60 + r.Float64()*50
		s.white = s.black + 50 + r.Float64()*80
		s.grid = 0.15 + r.Float64()*0.35
	}
	// The symbol plus quiet zone must fit; a large code may spill its
	// bezel out of the frame, as when a phone is held too close.
	symSide := frac * short
	total := symSide * (float64(n) + 2*s.quiet) / float64(n)
	if total > short*0.99 && class != "scale" {
		symSide *= short * 0.99 / total
	}
	cx := float64(size.X)/2 + (r.Float64()-0.5)*math.Max(0, float64(size.X)-total)*0.8
	cy := float64(size.Y)/2 + (r.Float64()-0.5)*math.Max(0, float64(size.Y)-total)*0.8
	if class == "scale" {
		cx, cy = float64(size.X)/2, float64(size.Y)/2
	}
	corners := [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}}
	sin, cos := math.Sincos(angle)
	for i, c := range corners {
		x := c[0]*symSide/2 + (r.Float64()*2-1)*persp*symSide
		y := c[1]*symSide/2 + (r.Float64()*2-1)*persp*symSide
		s.quad[i] = [2]float64{cx + x*cos - y*sin, cy + x*sin + y*cos}
	}
	img := s.render(r)
	px := symSide / float64(n) // pixels per module
	f := toFloat(img)
	switch class {
	case "defocus":
		blur = (0.15 + r.Float64()*0.40) * px
	case "motion":
		l := (0.3 + r.Float64()*1.2) * px
		motionBlur(f, s.w, s.h, l, r.Float64()*math.Pi)
		blur = 0.4
	case "glare":
		glare(r, f, s)
	}
	gaussBlur(f, s.w, s.h, blur)
	switch class {
	case "noise":
		noise = 10 + r.Float64()*30
	case "lowlight":
		gain := 0.06 + r.Float64()*0.19
		for i := range f {
			v := f[i] * gain
			f[i] = v + r.NormFloat64()*math.Sqrt(math.Max(v, 0))*0.8
		}
		noise = 2 + r.Float64()*3
	case "uneven":
		uneven(r, f, s)
	case "screen":
		// The camera's own exposure lifts the dim screen a little.
		for i := range f {
			f[i] = f[i]*1.1 + 5
		}
	}
	for i := range f {
		f[i] += r.NormFloat64() * noise
	}
	out := toGray(f, s.w, s.h)
	if class == "jpeg" {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 8 + r.IntN(33)}); err != nil {
			return Case{}, fmt.Errorf("camtest: %w", err)
		}
		m, err := jpeg.Decode(&buf)
		if err != nil {
			return Case{}, fmt.Errorf("camtest: %w", err)
		}
		yc, ok := m.(*image.Gray)
		if !ok {
			return Case{}, fmt.Errorf("camtest: jpeg decoded as %T", m)
		}
		out = yc
	}
	return Case{Name: class, Index: index, Frame: out, Text: text}, nil
}

// render draws the scene, 2×2 supersampled: a textured background, the
// phone (a dark body around a lit screen) and the code on the screen.
func (s *scene) render(r *rand.Rand) *image.Gray {
	hm := squareToQuad(s.quad)
	inv := hm.inverse()
	// Background texture: a few random waves and tiles.
	type wave struct{ fx, fy, ph, amp float64 }
	waves := make([]wave, 4)
	for i := range waves {
		waves[i] = wave{r.Float64() * 0.05, r.Float64() * 0.05, r.Float64() * 6.3, 10 + r.Float64()*25}
	}
	base := 70 + r.Float64()*80
	tile := 20 + r.IntN(60)
	// sin(fx*x + fy*y + ph) = sin(fx*x)cos(fy*y+ph) + cos(fx*x)sin(fy*y+ph),
	// tabulated per column and per row.
	sx, cx := make([][]float64, len(waves)), make([][]float64, len(waves))
	sy, cy := make([][]float64, len(waves)), make([][]float64, len(waves))
	for i, w := range waves {
		sx[i], cx[i] = make([]float64, s.w), make([]float64, s.w)
		sy[i], cy[i] = make([]float64, s.h), make([]float64, s.h)
		for x := range s.w {
			sx[i][x], cx[i][x] = math.Sincos(w.fx * float64(x))
		}
		for y := range s.h {
			sy[i][y], cy[i][y] = math.Sincos(w.fy*float64(y) + w.ph)
		}
	}
	background := func(x, y int) float64 {
		t := base
		for i, w := range waves {
			t += w.amp * (sx[i][x]*cy[i][y] + cx[i][x]*sy[i][y])
		}
		if (x/tile+y/tile)%2 == 0 {
			t += 20
		}
		return t
	}
	img := image.NewGray(image.Rect(0, 0, s.w, s.h))
	n := float64(s.n)
	bodyEdge := s.quiet + s.bezel + 1.5 + r.Float64()*2 // modules from the symbol
	// sample is the scene at one point, or -1 for the background.
	sample := func(fx, fy float64) float64 {
		u, v := inv.apply(fx, fy)
		mu, mv := u*n, v*n
		switch {
		case mu >= 0 && mu < n && mv >= 0 && mv < n:
			if s.modules[int(mv)*s.n+int(mu)] {
				return s.black
			}
			return s.screenWhite(mu, mv)
		case mu >= -s.quiet-s.bezel && mu < n+s.quiet+s.bezel && mv >= -s.quiet-s.bezel && mv < n+s.quiet+s.bezel:
			return s.screenWhite(mu, mv)
		case mu >= -bodyEdge && mu < n+bodyEdge && mv >= -bodyEdge && mv < n+bodyEdge:
			return 25 // the phone's body
		}
		return -1
	}
	margin := bodyEdge + 2
	for y := range s.h {
		for x := range s.w {
			u, v := inv.apply(float64(x)+0.5, float64(y)+0.5)
			mu, mv := u*n, v*n
			var val float64
			if mu < -margin || mu > n+margin || mv < -margin || mv > n+margin {
				val = -1
			} else {
				var sum float64
				bg := 0
				for _, o := range [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
					sv := sample(float64(x)+o[0], float64(y)+o[1])
					if sv < 0 {
						bg++
						continue
					}
					sum += sv
				}
				if bg == 4 {
					val = -1
				} else {
					val = (sum + float64(bg)*background(x, y)) / 4
				}
			}
			if val < 0 {
				val = background(x, y)
			}
			img.Pix[y*s.w+x] = uint8(math.Max(0, math.Min(255, val)))
		}
	}
	return img
}

// screenWhite is the screen's light level at module position (mu, mv):
// flat, or with the dark gaps of its pixel grid.
func (s *scene) screenWhite(mu, mv float64) float64 {
	if s.grid <= 0 {
		return s.white
	}
	gu := math.Mod(mu/s.grid+100, 1)
	gv := math.Mod(mv/s.grid+100, 1)
	if gu > 0.7 || gv > 0.75 {
		return s.black + (s.white-s.black)*0.35
	}
	return s.white
}

// homography maps (u, v) to (x, y).
type homography [9]float64

func (m homography) apply(u, v float64) (float64, float64) {
	d := m[6]*u + m[7]*v + m[8]
	return (m[0]*u + m[1]*v + m[2]) / d, (m[3]*u + m[4]*v + m[5]) / d
}

func (m homography) inverse() homography {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	return homography{
		e*i - f*h, c*h - b*i, b*f - c*e,
		f*g - d*i, a*i - c*g, c*d - a*f,
		d*h - e*g, b*g - a*h, a*e - b*d,
	}
}

// squareToQuad maps the unit square's corners (0,0), (1,0), (1,1), (0,1)
// to q.
func squareToQuad(q [4][2]float64) homography {
	x0, y0, x1, y1, x2, y2, x3, y3 := q[0][0], q[0][1], q[1][0], q[1][1], q[2][0], q[2][1], q[3][0], q[3][1]
	dx3, dy3 := x0-x1+x2-x3, y0-y1+y2-y3
	dx1, dy1 := x1-x2, y1-y2
	dx2, dy2 := x3-x2, y3-y2
	den := dx1*dy2 - dx2*dy1
	g := (dx3*dy2 - dx2*dy3) / den
	h := (dx1*dy3 - dx3*dy1) / den
	return homography{
		x1 - x0 + g*x1, x3 - x0 + h*x3, x0,
		y1 - y0 + g*y1, y3 - y0 + h*y3, y0,
		g, h, 1,
	}
}

func toFloat(img *image.Gray) []float64 {
	f := make([]float64, len(img.Pix))
	for i, v := range img.Pix {
		f[i] = float64(v)
	}
	return f
}

func toGray(f []float64, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range f {
		img.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(v))))
	}
	return img
}

// gaussBlur blurs f in place with a separable Gaussian of the given sigma.
func gaussBlur(f []float64, w, h int, sigma float64) {
	if sigma < 0.3 {
		return
	}
	rad := int(math.Ceil(sigma * 3))
	k := make([]float64, 2*rad+1)
	var sum float64
	for i := range k {
		x := float64(i - rad)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float64, len(f))
	for y := range h {
		row := f[y*w : (y+1)*w]
		for x := range w {
			var s float64
			for i, kv := range k {
				xx := min(max(x+i-rad, 0), w-1)
				s += kv * row[xx]
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s float64
			for i, kv := range k {
				yy := min(max(y+i-rad, 0), h-1)
				s += kv * tmp[yy*w+x]
			}
			f[y*w+x] = s
		}
	}
}

// motionBlur smears f in place along direction theta over length pixels.
func motionBlur(f []float64, w, h int, length, theta float64) {
	steps := max(2, int(math.Ceil(length)))
	dx, dy := math.Cos(theta), math.Sin(theta)
	src := append([]float64(nil), f...)
	for y := range h {
		for x := range w {
			var s float64
			for i := range steps + 1 {
				t := (float64(i)/float64(steps) - 0.5) * length
				xx := min(max(int(math.Round(float64(x)+t*dx)), 0), w-1)
				yy := min(max(int(math.Round(float64(y)+t*dy)), 0), h-1)
				s += src[yy*w+xx]
			}
			f[y*w+x] = s / float64(steps+1)
		}
	}
}

// glare adds 1–3 saturated elliptical reflections over the code.
func glare(r *rand.Rand, f []float64, s *scene) {
	hm := squareToQuad(s.quad)
	side := math.Hypot(s.quad[1][0]-s.quad[0][0], s.quad[1][1]-s.quad[0][1])
	for range 1 + r.IntN(3) {
		cx, cy := hm.apply(0.1+r.Float64()*0.8, 0.1+r.Float64()*0.8)
		rx := side * (0.04 + r.Float64()*0.12)
		ry := rx * (0.4 + r.Float64()*0.8)
		th := r.Float64() * math.Pi
		sn, cs := math.Sincos(th)
		peak := 150 + r.Float64()*200
		x0, x1 := max(0, int(cx-3*rx)), min(s.w, int(cx+3*rx)+1)
		y0, y1 := max(0, int(cy-3*rx)), min(s.h, int(cy+3*rx)+1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				dx, dy := float64(x)-cx, float64(y)-cy
				u, v := (dx*cs+dy*sn)/rx, (-dx*sn+dy*cs)/ry
				d := u*u + v*v
				if d < 4 {
					f[y*s.w+x] += peak * math.Exp(-d*d)
				}
			}
		}
	}
}

// uneven multiplies f by a shadow across the frame or a vignette.
func uneven(r *rand.Rand, f []float64, s *scene) {
	low := 0.10 + r.Float64()*0.25
	if r.IntN(2) == 0 {
		th := r.Float64() * 2 * math.Pi
		dx, dy := math.Cos(th), math.Sin(th)
		hm := squareToQuad(s.quad)
		cx, cy := hm.apply(0.5, 0.5)
		side := math.Hypot(s.quad[1][0]-s.quad[0][0], s.quad[1][1]-s.quad[0][1])
		for y := range s.h {
			for x := range s.w {
				t := ((float64(x)-cx)*dx+(float64(y)-cy)*dy)/side + 0.5
				t = math.Max(0, math.Min(1, t))
				f[y*s.w+x] *= low + (1-low)*t
			}
		}
		return
	}
	cx, cy := float64(s.w)*(0.2+0.6*r.Float64()), float64(s.h)*(0.2+0.6*r.Float64())
	rad := float64(max(s.w, s.h)) * (0.3 + 0.3*r.Float64())
	for y := range s.h {
		for x := range s.w {
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / rad
			f[y*s.w+x] *= low + (1-low)*math.Exp(-d*d)
		}
	}
}
