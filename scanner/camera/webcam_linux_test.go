//go:build linux

package camera

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/blackjack/webcam"
	"golang.org/x/sys/unix"
)

// unmapLeftovers reads the library's unexported buffer list, and webcamFD
// its descriptor: a new version of the library that renames them must
// fail here, not leak the buffers or hand the camera to hooks.
func TestWebcamFields(t *testing.T) {
	f, ok := reflect.TypeFor[webcam.Webcam]().FieldByName("buffers")
	if !ok || f.Type != reflect.TypeFor[[][]byte]() {
		t.Errorf("webcam.Webcam has no buffers [][]byte field (found %v): review unmapLeftovers", f.Type)
	}
	if _, ok := webcamFD(new(webcam.Webcam)); !ok {
		t.Error("webcam.Webcam has no fd uintptr field: review webcamFD")
	}
}

func TestUnmapLeftovers(t *testing.T) {
	b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	w := new(webcam.Webcam)
	field := reflect.ValueOf(w).Elem().FieldByName("buffers")
	reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Set(reflect.ValueOf([][]byte{b, nil}))
	unmapLeftovers(w)
	if err := unix.Munmap(b); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("the buffer was not unmapped: Munmap again = %v", err)
	}
	unmapLeftovers(w) // a second time is harmless
	unmapLeftovers(new(webcam.Webcam))
}

func TestMappedBeforeFailing(t *testing.T) {
	for msg, want := range map[string]bool{
		"Failed to start streaming: no space left on device":     true,
		"Failed to enqueue buffer: invalid argument":             true,
		"Failed to map memory: cannot allocate memory":           true,
		"Failed to map request buffers: device or resource busy": false,
		"Already streaming": false,
	} {
		if got := mappedBeforeFailing(errors.New(msg)); got != want {
			t.Errorf("mappedBeforeFailing(%q) = %v", msg, got)
		}
	}
}

// The real adapter on things that are not cameras.
func TestOpenNotACamera(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/dev/null", "camera: open /dev/null: "},
		{filepath.Join(t.TempDir(), "video0"), "no such file or directory"},
	} {
		cam, err := New(Config{Device: c.path})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cam.Next(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Next on %s: %v, want %q", c.path, err, c.want)
		}
		if h := cam.Health(); h.State != StateReopening || h.LastError == "" {
			t.Errorf("health %+v", h)
		}
		if err := cam.Close(); err != nil {
			t.Error(err)
		}
	}
}

// A descriptor opened without O_CLOEXEC, as webcam.Open opens the device,
// is close-on-exec once closeOnExec returns: no hook's command gets it.
// Also when another goroutine closed a file meanwhile and the device took
// its number.
func TestCloseOnExec(t *testing.T) {
	name := filepath.Join(t.TempDir(), "video0")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() (int, error) { return unix.Open(name, unix.O_RDWR|unix.O_NONBLOCK, 0) }
	itself := func(fd int) (int, bool) { return fd, true }
	cloexec := func(fd int) bool {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		return flags&unix.FD_CLOEXEC != 0
	}
	bare, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(bare)
	if cloexec(bare) {
		t.Fatal("opened without O_CLOEXEC, yet close-on-exec: this test shows nothing")
	}
	fd, err := closeOnExec(open, itself)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !cloexec(fd) {
		t.Error("the descriptor opened is not close-on-exec")
	}

	other, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	freed, err := closeOnExec(func() (int, error) {
		unix.Close(other) // another goroutine's close, as the device opens
		return open()
	}, itself)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(freed)
	if freed != other {
		t.Logf("the device got descriptor %d, not the freed %d", freed, other)
	}
	if !cloexec(freed) {
		t.Errorf("descriptor %d, opened as another was closed, is not close-on-exec", freed)
	}

	if _, err := closeOnExec(func() (int, error) { return unix.Open(name+".none", unix.O_RDWR, 0) }, itself); err == nil {
		t.Error("an open that failed returned no error")
	}
}
