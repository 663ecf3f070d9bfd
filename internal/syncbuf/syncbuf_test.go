package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Writers in many goroutines while another reads: every write is kept
// whole (run it with -race).
func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("abc\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "abc\n"); got != 800 {
		t.Errorf("%d writes kept, want 800", got)
	}
}
