package qr

import (
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var measure = flag.Bool("qr.measure", false, "measure how often rendered passes fail to decode (slow; prints a table)")

// base45 is the alphabet of a pass's text after its prefix.
const base45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// randomPass returns "CP1:" and 246 to 446 random Base45 characters: text
// shaped like a pass, whose payload bytes look random as a pass's do.
func randomPass(r *rand.Rand) string {
	b := make([]byte, 246+r.IntN(201))
	for i := range b {
		b[i] = base45[r.IntN(len(base45))]
	}
	return "CP1:" + string(b)
}

// gozxingModules renders text the way plain gozxing does, with its QR
// writer at level M with a 4-module margin, one pixel per module.
func gozxingModules(t testing.TB, text string) *image.Gray {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           4,
	}
	bm, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, bm.GetWidth(), bm.GetHeight()))
	for y := range bm.GetHeight() {
		for x := range bm.GetWidth() {
			if !bm.Get(x, y) {
				img.Pix[y*img.Stride+x] = 255
			}
		}
	}
	return img
}

// plainGozxing decodes img as a plain gozxing user would: its own image
// source, the hybrid binarizer, the QR reader, no hints.
func plainGozxing(img *image.Gray) string { return plainGozxingHints(img, nil) }

// plainGozxingHints is plainGozxing with hints.
func plainGozxingHints(img *image.Gray, hints map[gozxing.DecodeHintType]any) string {
	bm, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(img)))
	if err != nil {
		return ""
	}
	res, err := qrcode.NewQRCodeReader().Decode(bm, hints)
	if err != nil {
		return ""
	}
	return res.GetText()
}

// scaled re-renders a clean, axis-aligned code image (module edges on a
// grid of from pixels, as render and gozxing's writer both draw) with
// modules of to pixels, by sampling module centres.
func scaled(img *image.Gray, from, to int) *image.Gray {
	n := img.Rect.Dx() / from
	out := image.NewGray(image.Rect(0, 0, n*to, n*to))
	for my := range n {
		for mx := range n {
			v := img.Pix[(my*from+from/2)*img.Stride+mx*from+from/2]
			for y := my * to; y < (my+1)*to; y++ {
				for x := mx * to; x < (mx+1)*to; x++ {
					out.Pix[y*out.Stride+x] = v
				}
			}
		}
	}
	return out
}

// moduleSizeOf finds the module size of a clean rendering with a 4-module
// quiet zone: the width of the top-left finder pattern's outer ring is one
// module.
func moduleSizeOf(img *image.Gray) int {
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			if img.Pix[y*img.Stride+x] == 0 {
				n := 0
				for y2 := y; y2 < img.Rect.Dy() && img.Pix[y2*img.Stride+x] == 0; y2++ {
					n++
				}
				// The finder's left column is 7 modules tall.
				return n / 7
			}
		}
	}
	return 0
}

// variants are the views a check decodes: a code given one pixel per
// module, drawn at the default module size (the size Encode and gozxing's
// writer both pick for TargetSize) and at smaller ones, each in four
// orientations. The first is the default rendering, upright.
func variants(modules *image.Gray) (names []string, imgs []*image.Gray) {
	def := TargetSize / modules.Rect.Dx()
	for _, ms := range []int{def, 3, 4, 5, 6, 7} {
		if ms == def && len(imgs) > 0 {
			continue
		}
		v := scaled(modules, 1, ms)
		for rot := range 4 {
			if rot > 0 {
				v = rotate90(v)
			}
			label := fmt.Sprintf("%dpx", ms)
			if ms == def {
				label = "default"
			}
			names = append(names, fmt.Sprintf("%s/%d°", label, 90*rot))
			imgs = append(imgs, v)
		}
	}
	return names, imgs
}

// TestMeasure prints, for 1,000 random pass-like texts, how many fail to
// decode with plain gozxing and with this package's fixes. Run it with
//
//	go test -run TestMeasure -qr.measure ./scanner/qr
//
// docs/qr.md quotes its output.
func TestMeasure(t *testing.T) {
	if !*measure {
		t.Skip("run with -qr.measure")
	}
	const n = 1000
	r := rand.New(rand.NewPCG(2020, 14))
	texts := make([]string, n)
	for i := range texts {
		texts[i] = randomPass(r)
	}

	type row struct {
		upright int      // failures of the rendering as it is
		anyView int      // texts that fail in at least one variant
		views   int      // failed variants, all texts
		total   int      // variants decoded
		failed  []string // the failed variants' names
	}
	var (
		mu                      sync.Mutex
		plainPlain, plainHarder row
		plainOurs               row
		strategyUsed            = map[Strategy]int{}
		oursPlain, oursOurs     row
		naivePlain              row
		rerendered, naiveRe     int
		tries                   = map[int]int{}
		failedEncode            int
	)
	count := func(rw *row, text string, names []string, imgs []*image.Gray, dec func(*image.Gray) string) {
		failed := false
		for i, img := range imgs {
			ok := dec(img) == text
			mu.Lock()
			rw.total++
			if !ok {
				rw.views++
				rw.failed = append(rw.failed, names[i])
				failed = true
				if i == 0 {
					rw.upright++
				}
			}
			mu.Unlock()
		}
		if failed {
			mu.Lock()
			rw.anyView++
			mu.Unlock()
		}
	}
	ours := func(img *image.Gray) string {
		s, _ := Decode(img)
		return s
	}
	oursCounted := func(img *image.Gray) string {
		r, err := NewDecoder().Decode(img)
		if err == nil {
			mu.Lock()
			strategyUsed[r.Strategy]++
			mu.Unlock()
		}
		return r.Text
	}
	harder := func(img *image.Gray) string { return plainGozxingHints(img, hintsHarder) }
	var wg sync.WaitGroup
	next := make(chan string)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for text := range next {
				names, imgs := variants(gozxingModules(t, text))
				count(&plainPlain, text, names, imgs, plainGozxing)
				count(&plainHarder, text, names, imgs, harder)
				count(&plainOurs, text, names, imgs, oursCounted)

				img, k, err := encode(text, Options{})
				mu.Lock()
				if err != nil {
					failedEncode++
					mu.Unlock()
					continue
				}
				tries[k]++
				if k > 1 {
					rerendered++
				}
				mu.Unlock()
				names, imgs = variants(scaled(img, moduleSizeOf(img), 1))
				count(&oursPlain, text, names, imgs, plainGozxing)
				count(&oursOurs, text, names, imgs, ours)

				// Fix (a) as first thought of: check only the rendering
				// itself, upright.
				naive := newVerifier()
				naive.moduleSizes, naive.turns = nil, 1
				img, k, err = encodeVerified(text, Options{}, naive)
				if err != nil {
					t.Errorf("upright-only verification: %v", err)
					continue
				}
				if k > 1 {
					mu.Lock()
					naiveRe++
					mu.Unlock()
				}
				names, imgs = variants(scaled(img, moduleSizeOf(img), 1))
				count(&naivePlain, text, names, imgs, plainGozxing)
			}
		})
	}
	for _, s := range texts {
		next <- s
	}
	close(next)
	wg.Wait()

	names, _ := variants(gozxingModules(t, texts[0]))
	var b strings.Builder
	fmt.Fprintf(&b, "%d texts; views per text: %s\n", n, strings.Join(names, " "))
	fmt.Fprintf(&b, "%-40s %8s %9s %12s\n", "rendered by / decoded by", "upright", "any view", "views")
	p := func(name string, rw row) {
		fmt.Fprintf(&b, "%-40s %8d %9d %6d/%d\n", name, rw.upright, rw.anyView, rw.views, rw.total)
		if len(rw.failed) > 0 && len(rw.failed) <= 5 {
			fmt.Fprintf(&b, "%40s failed views: %s\n", "", strings.Join(rw.failed, " "))
		}
	}
	p("gozxing writer / plain gozxing", plainPlain)
	p("gozxing writer / gozxing TRY_HARDER", plainHarder)
	p("gozxing writer / qr.Decode", plainOurs)
	p("qr.Encode, upright check / plain gozxing", naivePlain)
	p("qr.Encode / plain gozxing", oursPlain)
	p("qr.Encode / qr.Decode", oursOurs)
	fmt.Fprintf(&b, "strategies that read the gozxing writer's views:")
	for s := Strategy(1); s <= numStrategies; s++ {
		fmt.Fprintf(&b, " %v=%d", s, strategyUsed[s])
	}
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "qr.Encode re-rendered %d texts (renderings verified: %v); failed %d\n", rerendered, tries, failedEncode)
	fmt.Fprintf(&b, "qr.Encode with the upright-only check re-rendered %d texts\n", naiveRe)
	t.Log("\n" + b.String())
}
