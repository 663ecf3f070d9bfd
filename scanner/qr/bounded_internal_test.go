package qr

import (
	"errors"
	"image"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// finderSheet is a white w×h frame with finder patterns of m pixels a
// module drawn every pitch pixels, left to right and top to bottom, n at
// most: a printed sheet of them, held up to a camera.
func finderSheet(w, h, m, pitch, n int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 0; y+pitch <= h; y += pitch {
		for x := 0; x+pitch <= w; x += pitch {
			if n--; n < 0 {
				return img
			}
			x0, y0 := x+(pitch-7*m)/2, y+(pitch-7*m)/2
			for dy := range 7 * m {
				for dx := range 7 * m {
					// Rings from the centre: 0-1 the core, 2 white, 3 the border.
					if max(abs(dy/m-3), abs(dx/m-3)) != 2 {
						img.Pix[(y0+dy)*w+x0+dx] = 0
					}
				}
			}
		}
	}
	return img
}

// blackMatrix binarizes img with gozxing's hybrid binarizer.
func blackMatrix(t *testing.T, img *image.Gray) *gozxing.BitMatrix {
	t.Helper()
	src, err := newGraySource(img)
	if err != nil {
		t.Fatal(err)
	}
	bm, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := bm.GetBlackMatrix()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A sheet of hundreds of finder patterns (noise makes them by chance), and
// gozxing tries every triple of them, their number cubed (24 s for this
// one; an 8192-pixel square of random grey took minutes): past
// maxFinderCandidates the search is cut short, and the frame reads as no
// code.
func TestNoiseSearchIsCut(t *testing.T) {
	sheet := finderSheet(640, 640, 2, 24, 1000)
	src, err := newGraySource(sheet)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	if r, err := d.Decode(sheet); !errors.Is(err, ErrNotFound) {
		t.Errorf("the sheet read as %q, %v; want ErrNotFound", r.Text, err)
	}
	f := &frame{src: src}
	for _, s := range []Strategy{Hybrid, HybridHarder, Regrid, Multi} {
		if _, err := d.attempt(f, s); err != errNoise {
			t.Errorf("%v on the sheet: %v, want the search cut short (%v)", s, err, errNoise)
		}
	}
}

// On a sheet of like finder patterns, gozxing's multiple-code finder lists
// hundreds of triples that could be codes, and its reader sampled and
// decoded every one (1.6 s a frame at 1280×720, under a 20 ms budget): the
// Multi strategies take the maxMultiTriples likest, likest first. A sheet
// of more than maxMultiCandidates patterns is cut short in the search.
func TestMultiTriesItsLikestTriples(t *testing.T) {
	sheet := finderSheet(640, 480, 6, 66, maxMultiCandidates)
	best, listed, err := multiTriples(blackMatrix(t, sheet), hintsNone)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d triples listed", listed)
	if listed <= maxMultiTriples {
		t.Fatalf("control: the sheet gave %d triples, no more than the %d tried", listed, maxMultiTriples)
	}
	if len(best) != maxMultiTriples {
		t.Errorf("%d triples to try, want %d", len(best), maxMultiTriples)
	}
	for i := 1; i < len(best); i++ {
		a, b := best[i-1], best[i]
		if rightness(sides(a.GetTopLeft(), a.GetTopRight(), a.GetBottomLeft())) > rightness(sides(b.GetTopLeft(), b.GetTopRight(), b.GetBottomLeft())) {
			t.Fatalf("triple %d is less like a code's corners than triple %d", i-1, i)
		}
	}
	if r, err := NewDecoder().Decode(sheet); !errors.Is(err, ErrNotFound) {
		t.Errorf("the sheet read as %q, %v", r.Text, err)
	}

	// One pattern more and the search is cut short.
	func() {
		defer func() {
			if v := recover(); v != errNoise {
				t.Errorf("a sheet of %d patterns: recovered %v, want errNoise", maxMultiCandidates+1, v)
			}
		}()
		multiTriples(blackMatrix(t, finderSheet(640, 480, 6, 54, maxMultiCandidates+1)), hintsNone)
	}()
}

// A strategy skipped because its cost on earlier frames would overrun the
// budget is not skipped for good: its cost decays each time, until it runs
// and its cost is measured again. One dear frame (a sheet of finder
// patterns) must not turn a strategy off.
func TestSkippedStrategyRunsAgain(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 64, 64))
	d := NewDecoder()
	d.Budget = time.Second
	d.Decode(blank) // learns the costs for this frame size
	d.cost[Multi] = time.Hour
	for range 200 {
		d.Decode(blank)
	}
	if d.cost[Multi] >= d.Budget {
		t.Errorf("after 200 frames the Multi strategy still costs %v: it never ran again", d.cost[Multi])
	}
}

// BenchmarkHostileFrames times one Decode of frames anyone could hold up
// to a camera or drop in the folder input, which gozxing's searches make
// dear (docs/qr.md, "Time"): a sheet of small finder patterns and a
// sheet of like ones, each with no budget and as the daemon decodes camera
// frames (Budget 20 ms, after ten frames of noise), and 8192-pixel
// squares of random grey and of stripes (one op takes seconds:
// -benchtime 1x). Without a budget it also reports the dearest
// strategy's cost, the longest a stop waits for the frame. Setting
// maxFinderCandidates, maxMultiCandidates and maxMultiTriples to 1<<30,
// and maxHarderCost to 1<<62, shows what the bounds save.
func BenchmarkHostileFrames(b *testing.B) {
	grey := func(w, h int, lo, span int) *image.Gray {
		r := rand.New(rand.NewPCG(23, 24))
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(lo + r.IntN(span))
		}
		return img
	}
	for _, c := range []struct {
		name   string
		frame  *image.Gray
		budget time.Duration
	}{
		{"small-finders-640x640", finderSheet(640, 640, 2, 24, 1000), 0},
		{"small-finders-640x640/budget", finderSheet(640, 640, 2, 24, 1000), 20 * time.Millisecond},
		{"like-finders-1280x720", finderSheet(1280, 720, 6, 54, 200), 0},
		{"like-finders-1280x720/budget", finderSheet(1280, 720, 6, 54, 200), 20 * time.Millisecond},
		{"grey-8192", grey(8192, 8192, 0, 256), 0},
		{"stripes-8192", stripeFrame(8192, 8192), 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := NewDecoder()
			d.Budget = c.budget
			if c.budget > 0 {
				noise := grey(c.frame.Rect.Dx(), c.frame.Rect.Dy(), 100, 40)
				for range 10 {
					d.Decode(noise)
				}
			}
			for b.Loop() {
				if _, err := d.Decode(c.frame); !errors.Is(err, ErrNotFound) {
					b.Fatalf("%v, want ErrNotFound", err)
				}
			}
			if c.budget == 0 {
				// The longest a stop waits for this frame
				// (DecodeContext gives up between strategies).
				b.ReportMetric(float64(slices.Max(d.cost[:]))/1e6, "dearest-strategy-ms")
			}
		})
	}
}

// stripeFrame is a w×h frame of vertical stripes, black 1, white 1,
// black 3, white 1 pixels, over and over, under a black row and a white
// one: every six pixels of every row are a finder pattern's 1:1:3:1:1
// run, and the black centre of each runs the whole height of the frame.
// gozxing's search checks each such run by scanning its centre column
// up and down before refusing it, so no candidate is ever confirmed and
// maxFinderCandidates never cuts the search short. A PNG of it is a few
// kilobytes.
func stripeFrame(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	pattern := [...]uint8{0, 255, 0, 0, 0, 255}
	for y := range h {
		row := img.Pix[y*img.Stride:][:w]
		for x := range row {
			switch y {
			case 0:
				row[x] = 0
			case 1:
				row[x] = 255
			default:
				row[x] = pattern[x%len(pattern)]
			}
		}
	}
	return img
}

// With TRY_HARDER gozxing's finder search steps every third row, and on
// stripeFrame each row's w/6 runs each scan a whole column: w·h²/18 pixel
// reads, which neither maxFinderCandidates nor Budget bounds once the
// strategy has started. Past maxHarderCost the harder strategies search as the plain one
// does; camera frames and an upright phone screenshot keep TRY_HARDER.
// BenchmarkHostileFrames times the stripe frame.
func TestHarderSearchIsBounded(t *testing.T) {
	_, harder := hintsHarder[gozxing.DecodeHintType_TRY_HARDER]
	if !harder {
		t.Fatal("hintsHarder without TRY_HARDER")
	}
	for _, c := range []struct {
		w, h   int
		harder bool
	}{
		{640, 480, true}, {1280, 720, true}, {1920, 1080, true}, {1080, 2400, true},
		{2400, 2400, false}, {4096, 4096, false}, {MaxDimension, MaxDimension, false}, {1080, MaxDimension, false},
	} {
		_, got := searchHints(hintsHarder, c.w, c.h)[gozxing.DecodeHintType_TRY_HARDER]
		if got != c.harder {
			t.Errorf("%d×%d: TRY_HARDER %v, want %v", c.w, c.h, got, c.harder)
		}
		if len(searchHints(hintsNone, c.w, c.h)) != 0 || len(searchHints(hintsPure, c.w, c.h)) != 1 {
			t.Errorf("%d×%d: hints without TRY_HARDER changed", c.w, c.h)
		}
	}
}
