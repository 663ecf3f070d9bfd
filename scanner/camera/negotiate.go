package camera

import (
	"fmt"
	"strings"
)

// sizeRange is one frame size a device offers for a format: a discrete
// size (min equal to max, no step), or a range with a step (a step of 0 or
// 1 being any size in the range).
type sizeRange struct {
	minW, maxW, stepW uint32
	minH, maxH, stepH uint32
}

// formatPreference is the order in which Config.Format "" picks a format:
// YUYV (luma is every second byte, nothing to decode), GREY (luma only),
// then MJPEG (a JPEG to decode per frame).
var formatPreference = []pixelFormat{fmtYUYV, fmtGREY, fmtMJPG, fmtJPEG}

// parseFormat maps a Config.Format to the pixel formats it accepts; nil for
// "" (any, in formatPreference order).
func parseFormat(s string) ([]pixelFormat, error) {
	switch strings.ToUpper(s) {
	case "":
		return nil, nil
	case "YUYV":
		return []pixelFormat{fmtYUYV}, nil
	case "GREY", "GRAY":
		return []pixelFormat{fmtGREY}, nil
	case "MJPG", "MJPEG", "JPEG":
		return []pixelFormat{fmtMJPG, fmtJPEG}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want YUYV, GREY or MJPEG)", s)
}

// chooseMode picks the format and size to ask a device for: among the
// formats it offers that the configuration allows, in order of
// preference, the first that offers the wanted size exactly, or else the
// first offered, at the size nearest the wanted one. sizes returns the
// sizes a format offers; an empty list means any size.
func chooseMode(offered []pixelFormat, sizes func(pixelFormat) []sizeRange, cfg Config) (mode, error) {
	want, err := parseFormat(cfg.Format)
	if err != nil {
		return mode{}, err
	}
	if want == nil {
		want = formatPreference
	}
	var first mode
	found := false
	for _, f := range want {
		if !hasFormat(offered, f) {
			continue
		}
		w, h, exact := chooseSize(sizes(f), cfg.Width, cfg.Height)
		m := mode{format: f, width: w, height: h}
		if exact {
			return m, nil
		}
		if !found {
			first, found = m, true
		}
	}
	if !found {
		names := make([]string, len(offered))
		for i, f := range offered {
			names[i] = f.String()
		}
		return mode{}, fmt.Errorf("no usable pixel format (device offers %s; want YUYV, GREY or MJPEG)", strings.Join(names, ", "))
	}
	return first, nil
}

func hasFormat(offered []pixelFormat, f pixelFormat) bool {
	for _, o := range offered {
		if o == f {
			return true
		}
	}
	return false
}

// chooseSize returns the offered size nearest to w×h (by the sum of the
// differences of the sides; the first of equals), and whether it is w×h.
// With nothing offered it returns w×h.
func chooseSize(offered []sizeRange, w, h int) (int, int, bool) {
	if len(offered) == 0 {
		return w, h, true
	}
	bestW, bestH, best := 0, 0, -1
	for _, r := range offered {
		cw := fit(r.minW, r.maxW, r.stepW, w)
		ch := fit(r.minH, r.maxH, r.stepH, h)
		if cw <= 0 || ch <= 0 {
			continue
		}
		d := abs(cw-w) + abs(ch-h)
		if best < 0 || d < best {
			bestW, bestH, best = cw, ch, d
		}
	}
	if best < 0 {
		return w, h, true
	}
	return bestW, bestH, best == 0
}

// fit returns the value of the range min..max in steps of step nearest to v.
func fit(lo, hi, step uint32, v int) int {
	if hi < lo {
		hi = lo
	}
	if int64(lo) > maxSide {
		return 0
	}
	if int64(hi) > maxSide {
		hi = maxSide
	}
	if step == 0 {
		step = 1
	}
	x := int64(v)
	if x < int64(lo) {
		x = int64(lo)
	}
	if x > int64(hi) {
		x = int64(hi)
	}
	n := (x - int64(lo) + int64(step)/2) / int64(step)
	x = int64(lo) + n*int64(step)
	if x > int64(hi) {
		x -= int64(step)
	}
	return int(x)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
