//go:build unix

package folder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO named like an image is refused like any file that is not a
// regular file; reading it would wait for a writer that never comes.
func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), gradient(2, 2))
	if err := syscall.Mkfifo(filepath.Join(dir, "b.png"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := Open(Config{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		names, errs := readAll(t, f)
		if !reflect.DeepEqual(names, []string{"a.png"}) || len(errs) != 1 || !strings.Contains(errs[0].Error(), "not a regular file") {
			t.Errorf("read %q, errors %v; want a.png, and b.png refused", names, errs)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Let the open go, so that the test ends.
		if w, err := os.OpenFile(filepath.Join(dir, "b.png"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("reading the folder waited on the FIFO")
	}
}
