//go:build linux

package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (posix_openpt, grantpt and
// unlockpt, by hand) and returns the master and the slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var n int
	err = control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlockpt: %w", err)
		}
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// fakeClock records the backoff instead of waiting it out.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
	d  []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.d = append(c.d, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func TestSerialPTY(t *testing.T) {
	master, slave := openPTY(t)
	sl := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	r, err := NewSerial(slave, Config{Baud: 115200, MaxLine: 64, Now: sl.now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.sleep = sl.sleep
	// Open first (the open flushes what was sent before it), then send.
	ctx := openNow(t, r)

	// The port is raw, 8N1, at the speed asked for.
	check, err := os.OpenFile(slave, os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tio *unix.Termios
	control(check, func(fd int) error { tio, err = unix.IoctlGetTermios(fd, unix.TCGETS); return err })
	check.Close()
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || tio.Iflag&(unix.ICRNL|unix.IXON) != 0 ||
		tio.Oflag&unix.OPOST != 0 || tio.Cflag&unix.CSIZE != unix.CS8 || tio.Cflag&unix.PARENB != 0 ||
		tio.Cflag&unix.CBAUD != unix.B115200 || tio.Cc[unix.VMIN] != 1 {
		t.Errorf("termios not raw 8N1 at 115200: %+v", tio)
	}

	long := strings.Repeat("L", 100)
	writes := []string{"CP1:AB", "CD\r", "\n", "second\n", long, long + "\r\n", "bin\x00ary\r\n", "\xff\xfe\r", "third\r"}
	go func() {
		for _, w := range writes {
			master.Write([]byte(w))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for _, want := range []string{"CP1:ABCD", "second", "third"} {
		rd, err := r.Next(ctx)
		if err != nil || rd.Text != want || rd.Name != slave {
			t.Fatalf("Next = %q from %q, %v; want %q", rd.Text, rd.Name, err, want)
		}
	}
	s := r.Stats()
	if want := map[Reason]uint64{ReasonOversize: 1, ReasonBinary: 2}; !reflect.DeepEqual(s.Dropped, want) || s.Lines != 3 {
		t.Errorf("stats %+v, want drops %v", s, want)
	}

	// Unplugged: the master goes away mid-line; the slave reads fail.
	master.Write([]byte("CP1:half"))
	time.Sleep(10 * time.Millisecond)
	master.Close()
	_, err = r.Next(ctx)
	if !errors.Is(err, ErrUnplugged) {
		t.Fatalf("after the master closed: %v, want ErrUnplugged", err)
	}
	// The device is gone: each Next waits out the backoff, tries, fails.
	for range 3 {
		if _, err := r.Next(ctx); err == nil || !strings.Contains(err.Error(), "reader: open "+slave) {
			t.Fatalf("reopen: %v", err)
		}
	}
	if got, want := sl.d, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
	s = r.Stats()
	if s.Dropped[ReasonIncomplete] != 1 || s.Faults != 4 {
		t.Errorf("stats %+v, want the cut line dropped and 4 faults", s)
	}
}

func TestSerialConfig(t *testing.T) {
	if _, err := NewSerial("/dev/ttyUSB0", Config{Baud: 12345}); err == nil {
		t.Error("an odd baud rate was accepted")
	}
	r, err := NewSerial(filepath.Join(t.TempDir(), "ttyACM0"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Next on a missing port: %v", err)
	}
	// Not a tty.
	r, _ = NewSerial("/dev/null", Config{})
	if _, err := r.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "termios") {
		t.Errorf("Next on /dev/null: %v", err)
	}
}

// A FIFO stands in for /dev/input/eventN (it cannot be grabbed).
func TestKeyboardDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "event0")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Opening read-write keeps the FIFO open for writing without blocking.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	r, err := NewKeyboard(fifo, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "grab") {
		t.Errorf("grabbing a FIFO: %v, want a grab error", err)
	}
	r.Close()

	r, err = NewKeyboard(fifo, Config{NoGrab: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := &keyFixture{size: nativeEventSize}
	f.typeLine("CP1:" + base45)
	f.typeLine("x")
	if _, err := w.Write(f.b.Bytes()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, want := range []string{"CP1:" + base45, "x"} {
		rd, err := r.Next(ctx)
		if err != nil || rd.Text != want || rd.Name != fifo {
			t.Fatalf("Next = %+v, %v; want %q", rd, err, want)
		}
	}
}

// A device whose read reaches the end of file (a tty hung up; here a FIFO
// whose writer went away) is unplugged, not ended: the error wraps
// ErrUnplugged and is not io.EOF, and the reader reopens the device.
func TestDeviceEndOfFileIsUnplug(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "event0")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	r, err := NewKeyboard(fifo, Config{NoGrab: true, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	plug := func(line string) {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the reader's open
		if err != nil {
			t.Error(err)
			return
		}
		f := &keyFixture{size: nativeEventSize}
		f.typeLine(line)
		w.Write(f.b.Bytes())
		w.Close() // unplugged
	}
	go plug("x")
	if rd, err := r.Next(ctx); err != nil || rd.Text != "x" {
		t.Fatalf("Next = %+v, %v; want x", rd, err)
	}
	_, err = r.Next(ctx)
	if !errors.Is(err, ErrUnplugged) || errors.Is(err, io.EOF) {
		t.Fatalf("after the end of file: %v; want ErrUnplugged, not io.EOF", err)
	}
	go plug("y")
	if rd, err := r.Next(ctx); err != nil || rd.Text != "y" {
		t.Fatalf("after plugging in again: Next = %+v, %v; want y", rd, err)
	}
}

// openNow opens r's port now, as its first Next would, and returns a
// context of 10 s for the reads that follow.
func openNow(t *testing.T, r *Reader) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	r.mu.Lock()
	err := r.reopen(ctx)
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}
