// Command bench decodes the camtest set with ZBar, zxing-cpp and this
// project's decoder, in one process, and prints a Markdown table of
// success rates, misreads and decode times per distortion and overall.
//
// Run it with run.sh, which installs the C libraries it links.
package main

import (
	"flag"
	"fmt"
	"image"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/scanner/qr/camtest"
)

// stats gathers one decoder's outcomes over a group of frames.
type stats struct {
	frames, ok, misreads int
	times                []time.Duration
}

func (s *stats) add(ok, misread bool, d time.Duration) {
	s.frames++
	if ok {
		s.ok++
	}
	if misread {
		s.misreads++
	}
	s.times = append(s.times, d)
}

func (s *stats) quantile(q float64) time.Duration {
	if len(s.times) == 0 {
		return 0
	}
	t := slices.Clone(s.times)
	slices.Sort(t)
	i := int(q*float64(len(t)-1) + 0.5)
	return t[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func main() {
	seed := flag.Uint64("seed", 1, "camtest seed")
	per := flag.Int("n", 40, "frames per distortion class")
	fallbacks := flag.Int("fallbacks", 0, "qr.Decoder.Fallbacks for this project's decoder")
	budget := flag.Duration("budget", 20*time.Millisecond, "qr.Decoder.Budget for this project's decoder (0: none)")
	flag.Parse()

	z, x := newZbar(), newZxing()
	o := &ours{d: &qr.Decoder{Fallbacks: *fallbacks, Budget: *budget}}
	type preparer interface{ prepare(*image.Gray) }
	readers := []reader{z, x, o}
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	groups := append(slices.Clone(camtest.Classes), "640x480", "1280x720", "overall")
	res := map[string][]*stats{}
	for _, g := range groups {
		res[g] = make([]*stats, len(readers))
		for i := range readers {
			res[g][i] = &stats{}
		}
	}
	start := time.Now()
	err := camtest.Each(camtest.Options{Seed: *seed, PerClass: *per}, func(c camtest.Case) error {
		size := fmt.Sprintf("%dx%d", c.Frame.Rect.Dx(), c.Frame.Rect.Dy())
		// Collect the generator's garbage now, so no decoder is timed
		// while the collector works on it.
		runtime.GC()
		for i, r := range readers {
			r.(preparer).prepare(c.Frame)
			t0 := time.Now()
			text, found := r.Read(c.Frame)
			d := time.Since(t0)
			ok := found && text == c.Text
			mis := found && text != c.Text
			for _, g := range []string{c.Name, size, "overall"} {
				res[g][i].add(ok, mis, d)
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Printf("%d frames per class, seed %d, %d classes; checkpoint with Fallbacks %d, Budget %v; generated and decoded in %v\n\n",
		*per, *seed, len(camtest.Classes), *fallbacks, *budget, time.Since(start).Round(time.Second))

	var head, rule strings.Builder
	head.WriteString("| frames |")
	rule.WriteString("|---|")
	for _, r := range readers {
		n := r.Name()
		fmt.Fprintf(&head, " %s ok | %s misreads | %s median ms | %s p95 ms |", n, n, n, n)
		rule.WriteString("---:|---:|---:|---:|")
	}
	fmt.Printf("| distortion %s\n|---%s\n", head.String(), rule.String())
	for _, g := range groups {
		row := res[g]
		fmt.Printf("| %s | %d |", g, row[0].frames)
		for _, s := range row {
			fmt.Printf(" %.0f%% (%d) | %d | %s | %s |", 100*float64(s.ok)/float64(max(s.frames, 1)), s.ok, s.misreads, ms(s.quantile(0.5)), ms(s.quantile(0.95)))
		}
		fmt.Println()
	}
	fmt.Printf("\nTime as a ratio to ZBar's (median, p95):\n\n| distortion |")
	for _, r := range readers {
		fmt.Printf(" %s median | %s p95 |", r.Name(), r.Name())
	}
	fmt.Printf("\n|---|%s\n", strings.Repeat("---:|---:|", len(readers)))
	for _, g := range groups {
		row := res[g]
		zm, zp := row[0].quantile(0.5), row[0].quantile(0.95)
		fmt.Printf("| %s |", g)
		for _, s := range row {
			fmt.Printf(" %.2f | %.2f |", float64(s.quantile(0.5))/float64(zm), float64(s.quantile(0.95))/float64(zp))
		}
		fmt.Println()
	}
}
