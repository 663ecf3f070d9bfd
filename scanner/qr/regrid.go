package qr

import (
	"cmp"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// regrid is the Regrid strategy's reader: gozxing's finder-pattern
// search, then its grid sampling at each plausible dimension (versions
// near the one the finder patterns' spacing suggests) rather than only
// the one it computes, each with the alignment pattern looked for where
// that dimension puts it. Perspective makes the spacing lie by more than
// gozxing's rounding allows. Every text it returns comes from gozxing's
// decoder, after format-information and Reed–Solomon checks.
func regrid(m *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any) (*gozxing.Result, error) {
	// Every candidate the search confirms, including those it then
	// refuses to group because their sizes differ, as perspective makes
	// them.
	var cands []*detector.FinderPattern
	hints = boundedSearch(hints, maxFinderCandidates, func(fp *detector.FinderPattern) {
		if len(cands) < maxCandidates {
			cands = append(cands, fp)
		}
	})
	cb := hints[gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK].(gozxing.ResultPointCallback)
	info, err := detector.NewFinderPatternFinder(m, cb).Find(hints)
	if err == nil {
		if res := regridTriple(m, info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft(), hints); res != nil {
			return res, nil
		}
	}
	for _, t := range triples(cands, 4) {
		a, b, c := gozxing.ResultPoint_OrderBestPatterns(t[0], t[1], t[2])
		bl, tl, tr := a.(*detector.FinderPattern), b.(*detector.FinderPattern), c.(*detector.FinderPattern)
		if err == nil && tl == info.GetTopLeft() && tr == info.GetTopRight() && bl == info.GetBottomLeft() {
			continue
		}
		if res := regridTriple(m, tl, tr, bl, hints); res != nil {
			return res, nil
		}
	}
	return nil, ErrNotFound
}

// maxCandidates bounds the finder-pattern candidates regrid groups.
const maxCandidates = 16

// triples returns up to n triples of candidates, most like the corners of
// an isosceles right triangle first, whose module sizes are within a
// factor of 2.5 of each other (perspective, and the single crossing a
// candidate's first estimate comes from, make them differ that much;
// gozxing allows 1.4).
func triples(c []*detector.FinderPattern, n int) [][3]*detector.FinderPattern {
	type scored struct {
		t [3]*detector.FinderPattern
		d float64
	}
	var all []scored
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			for k := j + 1; k < len(c); k++ {
				lo := min(c[i].GetEstimatedModuleSize(), c[j].GetEstimatedModuleSize(), c[k].GetEstimatedModuleSize())
				hi := max(c[i].GetEstimatedModuleSize(), c[j].GetEstimatedModuleSize(), c[k].GetEstimatedModuleSize())
				if hi > 2.5*lo {
					continue
				}
				e := sides(c[i], c[j], c[k])
				// The two legs at least 7 modules (a finder's width)
				// apart, or it is one pattern seen twice.
				if e[0] < 49*hi*hi {
					continue
				}
				d := rightness(e)
				if d > 0.8 {
					continue
				}
				all = append(all, scored{[3]*detector.FinderPattern{c[i], c[j], c[k]}, d})
			}
		}
	}
	slices.SortFunc(all, func(x, y scored) int { return cmp.Compare(x.d, y.d) })
	out := make([][3]*detector.FinderPattern, 0, n)
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.t)
	}
	return out
}

// regridTriple samples and decodes the code whose finder patterns are tl,
// tr and bl, at each plausible dimension; nil if none decodes.
func regridTriple(m *gozxing.BitMatrix, tl, tr, bl *detector.FinderPattern, hints map[gozxing.DecodeHintType]any) *gozxing.Result {
	// The median of the three estimates: one may come from a slanting
	// crossing of a sheared pattern, and be far off.
	sizes := []float64{tl.GetEstimatedModuleSize(), tr.GetEstimatedModuleSize(), bl.GetEstimatedModuleSize()}
	slices.Sort(sizes)
	ms := sizes[1]
	if ms < 1 {
		return nil
	}
	// Each leg in the module size at its ends: under perspective the
	// modules at one end can be twice those at the other, and the
	// median alone put a code four versions off.
	leg := func(a, b *detector.FinderPattern) float64 {
		return gozxing.ResultPoint_Distance(a, b) / ((a.GetEstimatedModuleSize() + b.GetEstimatedModuleSize()) / 2)
	}
	est := (leg(tl, tr)+leg(tl, bl))/2 + 7
	// Versions whose dimension is within three versions of the estimate,
	// nearest first.
	v0 := int(math.Round((est - 17) / 4))
	dec := decoder.NewDecoder()
	for _, dv := range []int{0, 1, -1, 2, -2, 3, -3} {
		v := v0 + dv
		if v < 1 || v > 40 {
			continue
		}
		dim := 4*v + 17
		version, err := decoder.Version_GetVersionForNumber(v)
		if err != nil {
			continue
		}
		var ap *detector.AlignmentPattern
		if len(version.GetAlignmentPatternCenters()) > 0 {
			brx := tr.GetX() - tl.GetX() + bl.GetX()
			bry := tr.GetY() - tl.GetY() + bl.GetY()
			c := 1 - 3/float64(dim-7)
			ex := tl.GetX() + c*(brx-tl.GetX())
			ey := tl.GetY() + c*(bry-tl.GetY())
			// Under perspective the modules near the bottom-right
			// corner are not the average size: extrapolate from the
			// three finder patterns too.
			br := tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize() - tl.GetEstimatedModuleSize()
		search:
			for _, size := range []float64{ms, br} {
				if size < 1 {
					continue
				}
				for _, f := range []float64{4, 8, 16} {
					if ap = findAlignment(m, size, ex, ey, f); ap != nil {
						break search
					}
				}
			}
		}
		// The alignment pattern found, then (only if that grid fails)
		// the one matched module by module, the one found by steps, then
		// none.
		var matched *detector.AlignmentPattern
		for try := range 4 {
			a := ap
			switch try {
			case 1:
				if len(version.GetAlignmentPatternCenters()) == 0 {
					continue
				}
				// Defocus thins the dark centre and ring of the pattern
				// until gozxing's run-length search finds none, or finds
				// a blob of the data instead.
				matched = matchAlignment(m, tl, tr, bl, dim)
				a = matched
				if a == nil || same(a, ap) {
					continue
				}
			case 2:
				cs := version.GetAlignmentPatternCenters()
				if len(cs) < 3 {
					continue
				}
				// Strong perspective puts the bottom-right alignment
				// pattern too far from where the three finder patterns
				// put it, and another blob is found there.
				a = stepAlignment(m, tl, tr, bl, cs, dim)
				if a == nil || same(a, ap) || same(a, matched) {
					continue
				}
			case 3:
				a = nil
			}
			if try == 0 && ap == nil {
				continue
			}
			if a == nil && (ap != nil || matched != nil) && dv != 0 {
				// Without the alignment pattern found, only at the
				// estimate.
				continue
			}
			if a == nil && ap == nil && matched == nil && dv != 0 && len(version.GetAlignmentPatternCenters()) > 0 {
				// No alignment pattern where this version puts it: not
				// this version.
				continue
			}
			t := detector.Detector_createTransform(tl, tr, bl, a, dim)
			bits, err := detector.Detector_sampleGrid(m, t, dim)
			if err != nil {
				continue
			}
			res, err := dec.Decode(bits, hints)
			if err != nil {
				continue
			}
			pts := []gozxing.ResultPoint{bl, tl, tr}
			if a != nil {
				pts = append(pts, a)
			}
			// A mirrored code: bottom-left and top-right swap, as
			// gozxing's reader and decodeMulti have them.
			if md, ok := res.GetOther().(*decoder.QRCodeDecoderMetaData); ok {
				md.ApplyMirroredCorrection(pts)
			}
			return gozxing.NewResult(res.GetText(), res.GetRawBytes(), pts, gozxing.BarcodeFormat_QR_CODE)
		}
	}
	return nil
}

// findAlignment looks for an alignment pattern within allowance modules
// of (x, y), as gozxing's detector does.
func findAlignment(m *gozxing.BitMatrix, ms, x, y, allowance float64) *detector.AlignmentPattern {
	a := int(allowance * ms)
	left, right := max(0, int(x)-a), min(m.GetWidth()-1, int(x)+a)
	top, bottom := max(0, int(y)-a), min(m.GetHeight()-1, int(y)+a)
	if float64(right-left) < 3*ms || float64(bottom-top) < 3*ms {
		return nil
	}
	p, err := detector.NewAlignmentPatternFinder(m, left, top, right-left, bottom-top, ms, nil).Find()
	if err != nil {
		return nil
	}
	return p
}

// same reports whether alignment patterns a and b (either may be nil)
// are one, within a pixel: a grid already sampled with one.
func same(a, b *detector.AlignmentPattern) bool {
	return a != nil && b != nil && math.Hypot(a.GetX()-b.GetX(), a.GetY()-b.GetY()) < 1
}

// matchAlignment looks for the bottom-right alignment pattern of a code
// of dimension dim whose finder patterns are tl, tr and bl by matching
// its 5×5 modules (dark centre, light ring, dark ring) module by module
// in m, at every position within 3 modules of where the parallelogram
// of the finder patterns puts it, in steps of a quarter module. It
// returns the middle of the positions where the most modules match, if
// at least 23 of the 25 do; nil otherwise. gozxing's alignment search
// wants each run of the pattern about a module long, and defocus makes
// the dark centre and ring thinner than that.
func matchAlignment(m *gozxing.BitMatrix, tl, tr, bl *detector.FinderPattern, dim int) *detector.AlignmentPattern {
	span := float64(dim - 7)
	// One module along each side, from the finder patterns' spacing.
	ux, uy := (tr.GetX()-tl.GetX())/span, (tr.GetY()-tl.GetY())/span
	vx, vy := (bl.GetX()-tl.GetX())/span, (bl.GetY()-tl.GetY())/span
	c := float64(dim) - 10 // the centre's distance, in modules, from tl's
	ex, ey := tl.GetX()+c*(ux+vx), tl.GetY()+c*(uy+vy)
	w, h := m.GetWidth(), m.GetHeight()
	const steps = 12 // quarter modules either side
	best, n := -1, 0
	var sx, sy float64
	for j := -steps; j <= steps; j++ {
		for i := -steps; i <= steps; i++ {
			du, dv := float64(i)/4, float64(j)/4
			cx, cy := ex+du*ux+dv*vx, ey+du*uy+dv*vy
			score := 0
			for b := -2; b <= 2; b++ {
				for a := -2; a <= 2; a++ {
					x := int(cx + float64(a)*ux + float64(b)*vx)
					y := int(cy + float64(a)*uy + float64(b)*vy)
					if x < 0 || y < 0 || x >= w || y >= h {
						continue
					}
					dark := max(abs(a), abs(b)) != 1
					if m.Get(x, y) == dark {
						score++
					}
				}
			}
			switch {
			case score > best:
				best, n, sx, sy = score, 1, cx, cy
			case score == best:
				n++
				sx += cx
				sy += cy
			}
		}
	}
	if best < 23 {
		return nil
	}
	ms := (math.Hypot(ux, uy) + math.Hypot(vx, vy)) / 2
	return detector.NewAlignmentPattern(sx/float64(n), sy/float64(n), ms)
}

// stepAlignment finds the bottom-right alignment pattern of a code of
// dimension dim, whose alignment patterns are centred on the rows and
// columns cs, by steps: first the two on the timing patterns nearest
// the middle (on the lines between finder patterns, which the finder
// patterns place well), then the one at the middle, each from the
// homography the points found so far fit best, and last the
// bottom-right one. Strong perspective puts it too far from where the
// three finder patterns alone put it, and another blob is found there.
func stepAlignment(m *gozxing.BitMatrix, tl, tr, bl *detector.FinderPattern, cs []int, dim int) *detector.AlignmentPattern {
	d := float64(dim)
	src := []float64{3.5, 3.5, d - 3.5, 3.5, 3.5, d - 3.5}
	dst := []float64{tl.GetX(), tl.GetY(), tr.GetX(), tr.GetY(), bl.GetX(), bl.GetY()}
	t := detector.Detector_createTransform(tl, tr, bl, nil, dim)
	c0, c := float64(cs[0])+0.5, float64(cs[len(cs)/2])+0.5
	// The two on the timing patterns, the middle one, the bottom-right.
	steps := [...][2]float64{{c, c0}, {c0, c}, {c, c}, {d - 6.5, d - 6.5}}
	for i, p := range steps {
		if len(src) > 6 {
			if t = fitHomography(src, dst, dim); t == nil {
				return nil
			}
		}
		x, y, ms := moduleAt(t, p[0], p[1])
		var a *detector.AlignmentPattern
		for _, f := range []float64{3, 6} {
			if a = findAlignment(m, ms, x, y, f); a != nil {
				break
			}
		}
		switch {
		case i == len(steps)-1:
			return a
		case a != nil:
			src = append(src, p[0], p[1])
			dst = append(dst, a.GetX(), a.GetY())
		case i == 1 && len(src) == 6, i == 2:
			// Neither pattern on the timing patterns, or not the one
			// in the middle: not a code of this version.
			return nil
		}
	}
	return nil
}

// fitHomography returns the homography from module positions src to
// image positions dst (x, y pairs, at least four points) that fits them
// best in the least-squares sense, as a transform for gozxing's sampler;
// nil if the points do not determine one.
func fitHomography(src, dst []float64, dim int) *common.PerspectiveTransform {
	// Image positions relative to the first point and scaled to about
	// the module positions' size, for a well-conditioned system.
	ox, oy := dst[0], dst[1]
	sc := math.Hypot(dst[2]-ox, dst[3]-oy) / math.Abs(src[2]-src[0])
	if sc == 0 || math.IsNaN(sc) {
		return nil
	}
	// Unknowns h0..h7 of x = (h0 u + h1 v + h2) / (h6 u + h7 v + 1),
	// y = (h3 u + h4 v + h5) / (h6 u + h7 v + 1); normal equations.
	var a [8][9]float64
	for i := 0; i+1 < len(src); i += 2 {
		u, v := src[i], src[i+1]
		x, y := (dst[i]-ox)/sc, (dst[i+1]-oy)/sc
		for _, r := range [2][9]float64{
			{u, v, 1, 0, 0, 0, -u * x, -v * x, x},
			{0, 0, 0, u, v, 1, -u * y, -v * y, y},
		} {
			for j := range 8 {
				for k := range 9 {
					a[j][k] += r[j] * r[k]
				}
			}
		}
	}
	var h [8]float64
	for col := range 8 {
		p := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) < 1e-12 {
			return nil
		}
		a[col], a[p] = a[p], a[col]
		for r := range 8 {
			if r != col {
				f := a[r][col] / a[col][col]
				for k := col; k < 9; k++ {
					a[r][k] -= f * a[col][k]
				}
			}
		}
	}
	for i := range 8 {
		h[i] = a[i][8] / a[i][i]
	}
	// gozxing builds its transforms from four point pairs: give it the
	// images of four module positions under h.
	d := float64(dim)
	q := []float64{3.5, 3.5, d - 3.5, 3.5, d - 3.5, d - 3.5, 3.5, d - 3.5}
	var p [8]float64
	for i := 0; i < 8; i += 2 {
		u, v := q[i], q[i+1]
		w := h[6]*u + h[7]*v + 1
		if w <= 0 {
			return nil
		}
		p[i] = ox + sc*(h[0]*u+h[1]*v+h[2])/w
		p[i+1] = oy + sc*(h[3]*u+h[4]*v+h[5])/w
	}
	return common.PerspectiveTransform_QuadrilateralToQuadrilateral(
		q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7],
		p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
}

// moduleAt returns where t puts module position (u, v), and the size of
// a module there.
func moduleAt(t *common.PerspectiveTransform, u, v float64) (x, y, size float64) {
	p := []float64{u, v, u + 1, v, u, v + 1}
	t.TransformPoints(p)
	return p[0], p[1], (math.Hypot(p[2]-p[0], p[3]-p[1]) + math.Hypot(p[4]-p[0], p[5]-p[1])) / 2
}
