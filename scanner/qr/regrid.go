package qr

import (
	"cmp"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
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
	est := (gozxing.ResultPoint_Distance(tl, tr)+gozxing.ResultPoint_Distance(tl, bl))/(2*ms) + 7
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
		for _, a := range []*detector.AlignmentPattern{ap, nil} {
			if a == nil && ap != nil && dv != 0 {
				// Without the alignment pattern found, only at the
				// estimate.
				continue
			}
			if a == nil && ap == nil && dv != 0 && len(version.GetAlignmentPatternCenters()) > 0 {
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
