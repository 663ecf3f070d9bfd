package camera

import "testing"

func discrete(w, h uint32) sizeRange { return sizeRange{w, w, 0, h, h, 0} }

func TestChooseSize(t *testing.T) {
	uvc := []sizeRange{discrete(320, 240), discrete(640, 360), discrete(640, 480), discrete(1280, 720)}
	for _, c := range []struct {
		offered []sizeRange
		w, h    int
		gw, gh  int
		exact   bool
	}{
		{uvc, 640, 480, 640, 480, true},
		{uvc, 1280, 720, 1280, 720, true},
		{uvc, 800, 600, 640, 480, false},
		{uvc, 1920, 1080, 1280, 720, false},
		{nil, 800, 600, 800, 600, true},
		{[]sizeRange{{16, 2592, 16, 16, 1944, 16}}, 641, 479, 640, 480, false},
		{[]sizeRange{{16, 2592, 16, 16, 1944, 16}}, 640, 480, 640, 480, true},
		{[]sizeRange{{32, 4000, 1, 32, 3000, 1}}, 10000, 10000, 4000, 3000, false},
		{[]sizeRange{discrete(8000, 6000)}, 640, 480, 640, 480, true}, // too big: treated as nothing offered
	} {
		gw, gh, exact := chooseSize(c.offered, c.w, c.h)
		if gw != c.gw || gh != c.gh || exact != c.exact {
			t.Errorf("chooseSize(%v, %d, %d) = %d, %d, %v; want %d, %d, %v", c.offered, c.w, c.h, gw, gh, exact, c.gw, c.gh, c.exact)
		}
	}
}

func TestChooseMode(t *testing.T) {
	sizes := map[pixelFormat][]sizeRange{
		fmtYUYV: {discrete(640, 480)},
		fmtMJPG: {discrete(640, 480), discrete(1280, 720)},
		fmtGREY: {discrete(1280, 720)},
	}
	get := func(f pixelFormat) []sizeRange { return sizes[f] }
	for _, c := range []struct {
		offered []pixelFormat
		cfg     Config
		want    mode
		err     bool
	}{
		{[]pixelFormat{fmtMJPG, fmtYUYV}, Config{Width: 640, Height: 480}, mode{fmtYUYV, 640, 480}, false},
		// YUYV does not offer 1280x720, GREY does.
		{[]pixelFormat{fmtMJPG, fmtYUYV, fmtGREY}, Config{Width: 1280, Height: 720}, mode{fmtGREY, 1280, 720}, false},
		{[]pixelFormat{fmtMJPG, fmtYUYV}, Config{Width: 1280, Height: 720}, mode{fmtMJPG, 1280, 720}, false},
		// Nothing offers the size: the first format, at its nearest size.
		{[]pixelFormat{fmtYUYV, fmtMJPG}, Config{Width: 1920, Height: 1080}, mode{fmtYUYV, 640, 480}, false},
		{[]pixelFormat{fmtMJPG, fmtYUYV}, Config{Width: 640, Height: 480, Format: "mjpeg"}, mode{fmtMJPG, 640, 480}, false},
		{[]pixelFormat{fmtYUYV}, Config{Width: 640, Height: 480, Format: "GREY"}, mode{}, true},
		{[]pixelFormat{fourcc("H264")}, Config{Width: 640, Height: 480}, mode{}, true},
		{nil, Config{Width: 640, Height: 480}, mode{}, true},
	} {
		got, err := chooseMode(c.offered, get, c.cfg)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("chooseMode(%v, %+v) = %v, %v; want %v", c.offered, c.cfg, got, err, c.want)
		}
	}
}
