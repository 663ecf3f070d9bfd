//go:build linux

package reader

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ioctl requests for evdev (linux/input.h), in the generic ioctl encoding
// that arm, arm64 and amd64 share: _IOW('E', 0x90, int) and
// _IOW('E', 0xa0, int).
const (
	evIOCGrab     = 0x40044590
	evIOCSClockID = 0x400445a0
)

// NewKeyboard returns a Reader of a keyboard-wedge QR reader module: the
// evdev device at path (best a /dev/input/by-id/...-event-kbd link, which
// names the same reader after it is unplugged). The device is grabbed
// unless cfg.NoGrab, so what it types reaches only this program. Keys are
// read with the US key map; Enter ends a line.
//
// The device is opened by the first call to Next, and reopened after a
// fault; NewKeyboard fails only for a Config out of range.
func NewKeyboard(path string, cfg Config) (*Reader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) { return openEvdev(path, !cfg.NoGrab) }
	return newReader(path, cfg, newKeyDecoder(nativeEventSize, cfg.MaxLine, cfg.KeyGap), open), nil
}

func openEvdev(path string, grab bool) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	err = control(f, func(fd int) error {
		if grab {
			if err := unix.IoctlSetInt(fd, evIOCGrab, 1); err != nil {
				return fmt.Errorf("grab (EVIOCGRAB): %w", err)
			}
		}
		// Timestamps from the monotonic clock: the pause between keys
		// is then right when the wall clock is set. Not every kernel
		// can; the wall clock does then.
		_ = unix.IoctlSetPointerInt(fd, evIOCSClockID, unix.CLOCK_MONOTONIC)
		return nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// baudRates maps the speeds a serial reader may use to termios's codes.
var baudRates = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
	230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
}

// SupportedBaud reports whether NewSerial takes baud (0: the default).
func SupportedBaud(baud int) bool {
	_, ok := baudRates[baud]
	return ok || baud == 0
}

// NewSerial returns a Reader of a serial QR reader module: the tty at path
// (/dev/ttyACM*, /dev/ttyUSB*, or better a /dev/serial/by-id/ link). The
// port is set to raw mode, 8 data bits, no parity, one stop bit, at
// cfg.Baud. A line ends at CR, LF or CRLF.
//
// The port is opened by the first call to Next, and reopened after a
// fault; NewSerial fails only for a Config out of range.
func NewSerial(path string, cfg Config) (*Reader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	speed, ok := baudRates[cfg.Baud]
	if !ok {
		return nil, fmt.Errorf("reader: unsupported baud rate %d", cfg.Baud)
	}
	open := func() (io.ReadCloser, error) { return openSerial(path, speed) }
	return newReader(path, cfg, &textDecoder{lineSplitter: lineSplitter{max: cfg.MaxLine}}, open), nil
}

func openSerial(path string, speed uint32) (*os.File, error) {
	// O_NONBLOCK: the open does not wait for a carrier, and Go's poller
	// reads the file, so that Close interrupts a read.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := control(f, func(fd int) error { return setRaw(fd, speed) }); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// setRaw puts the tty in raw mode at speed: bytes pass as they come, with
// no echo, no line editing, no signals and no translation of CR and LF.
func setRaw(fd int, speed uint32) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	t.Ispeed, t.Ospeed = speed, speed
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("set termios: %w", err)
	}
	// Whatever the reader sent before now is not for us.
	if err := unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH); err != nil {
		return fmt.Errorf("flush input: %w", err)
	}
	return nil
}

// control runs f on the file's descriptor without taking it out of Go's
// poller (as File.Fd would).
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
