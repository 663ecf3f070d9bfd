//go:build linux

package reader

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What a serial reader module sent before the port was opened (a code
// scanned while the daemon was stopped, noise at power-up) waits in the
// tty's input queue; the open discards it (docs/inputs.md, "Serial"), so
// the first line read is one sent after the open, never a stale read.
func TestSerialDiscardsWhatWaitedAtOpen(t *testing.T) {
	master, slave := openPTY(t)
	// Hold the slave open in raw mode, so that what the master writes
	// waits in the input queue as it was sent.
	keep, err := os.OpenFile(slave, os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	if err := control(keep, func(fd int) error { return setRaw(fd, unix.B9600) }); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("CP1:STALE\r")); err != nil {
		t.Fatal(err)
	}
	queued := func() (n int) {
		control(keep, func(fd int) error { n, err = unix.IoctlGetInt(fd, unix.TIOCINQ); return err })
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for queued() < len("CP1:STALE\r") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := queued(); n < len("CP1:STALE\r") {
		t.Fatalf("%d bytes queued before the open, want %d", n, len("CP1:STALE\r"))
	}

	r, err := NewSerial(slave, Config{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := openNow(t, r)
	if _, err := master.Write([]byte("CP1:FRESH\r")); err != nil {
		t.Fatal(err)
	}
	rd, err := r.Next(ctx)
	if err != nil || rd.Text != "CP1:FRESH" {
		t.Fatalf("first read after the open: %q, %v; want the line sent after it", rd.Text, err)
	}
}
