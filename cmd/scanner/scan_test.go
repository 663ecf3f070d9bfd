package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// passesToScan is how many passes TestIssuedPassesAlwaysScan renders;
// BENCHMARKS.md quotes the figure. Under the race detector and under qemu
// it renders fewer (they are 10 to 50 times slower); scripts/test.sh runs
// the full 1,000 natively as a step of its own.
func passesToScan() int {
	switch {
	case os.Getenv("CHECKPOINT_QEMU") == "1":
		return 20
	case raceEnabled || testing.Short():
		return 100
	}
	return 1000
}

// Every pass that issue -png renders must decode from its PNG: passes carry
// random signatures, and random data can fool a finder-pattern search.
func TestIssuedPassesAlwaysScan(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "issuer")
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var (
		mu     sync.Mutex
		failed []string
		seen   = map[string]bool{}
		wg     sync.WaitGroup
		next   = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				png := filepath.Join(dir, fmt.Sprintf("p%04d.png", i))
				// Vary what varies in real passes: holder text, sites, status, class.
				args := []string{"issue", "-key", prefix + ".key", "-png", png,
					"-holder", fmt.Sprintf("%c.%c. %d-%d", 'A'+i%26, 'A'+i/26%26, i%40, i),
					"-index", fmt.Sprint(i * 7919 % (1 << 24)),
					"-status", []string{"green", "yellow", "red"}[i%3],
					"-class", []string{"resident", "visitor", "staff"}[i/3%3],
					"-site", "north-gate"}
				if i%4 == 0 {
					args = append(args, "-site", fmt.Sprintf("annex-%d", i))
				}
				r := runMain(t, t0, args...)
				if r.code != 0 {
					t.Errorf("issue %d: %s", i, r.stderr)
					continue
				}
				want := strings.TrimSpace(r.stdout)
				got, err := qr.DecodeFile(png)
				mu.Lock()
				seen[want] = true
				if err != nil || got != want {
					failed = append(failed, fmt.Sprintf("%d: %v", i, err))
				}
				mu.Unlock()
			}
		}()
	}
	n := passesToScan()
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d distinct passes, want %d", len(seen), n)
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d passes did not decode from their PNGs: %v", len(failed), n, failed)
	}
	t.Logf("%d of %d passes decoded from their PNGs", n-len(failed), n)
}
