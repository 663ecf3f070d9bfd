// Package reader reads text payloads from the USB QR reader modules that
// many gates use instead of a camera, and from any stream of lines such
// as stdin. One line is one payload: Next returns it as Read.Text.
//
//   - NewKeyboard: a keyboard-wedge reader, which types the code as a USB
//     keyboard would, read from its evdev device (/dev/input/eventN). The
//     device is grabbed (EVIOCGRAB) so that the typing reaches no console
//     or desktop.
//   - NewSerial: a reader that writes the code to a serial port
//     (/dev/ttyACM*, /dev/ttyUSB*), set to raw mode at Config.Baud.
//   - NewLines: the lines of any io.Reader.
//
// NewKeyboard and NewSerial are Linux only; elsewhere they return
// ErrUnsupported.
//
// # Lines
//
// A line ends at CR, LF or CRLF (on a keyboard, at Enter or keypad Enter);
// empty lines are skipped. A line is dropped whole, never returned and
// never cut into pieces, when it is longer than Config.MaxLine (2048
// bytes: the rest is read up to its end and discarded), when it holds a
// byte outside printable ASCII (0x20 to 0x7e), or, from a keyboard, a key
// the key map cannot type or one pressed with Ctrl, Alt or Meta. Each drop
// is counted by its Reason (Stats). A line cut short (events lost, a pause
// longer than Config.KeyGap inside a typed line, the device gone) is
// dropped as ReasonIncomplete; at the end of a stream (NewLines) a last
// line without a line end is a line.
//
// Payload text is personal data: this package never logs it, and errors
// and Stats never hold it.
//
// # Key map
//
// Keys are read with a US layout, following both Shift keys: digits,
// letters in both cases, space and the US punctuation, and the keypad's
// digits, . + - * / as if Num Lock were on. This covers the Base45
// alphabet (0-9, A-Z, space, $ % * + - . / :) of a pass. Caps Lock is not
// followed: configure the reader module for a US keyboard, Caps Lock off,
// and Enter as its suffix.
//
// # evdev layout
//
// struct input_event begins with a struct timeval of two C longs, so it is
// 24 bytes for a 64-bit process (arm64) and 16 bytes for a 32-bit one
// (armv7), also on a 64-bit kernel. The size is taken from the process's
// pointer size; the tests decode both layouts from byte fixtures.
//
// # Devices
//
// A device is opened by the first call to Next, not by the constructor, so
// that a daemon starts before its reader is plugged in. When a read fails
// (the device unplugged: ENODEV, EIO or the end of the file), Next returns
// an error wrapping ErrUnplugged, and later calls reopen it, waiting
// 250 ms before the first attempt and twice as long after each failure,
// up to Config.MaxBackoff; each failed attempt is returned as an error. A
// path under /dev/input/by-id/ or /dev/serial/by-id/ names the same reader
// after it is plugged in again.
//
// Reads happen in a goroutine of the reader's own, so that Next returns as
// soon as its context is done; Close closes the device, which ends that
// goroutine.
package reader
