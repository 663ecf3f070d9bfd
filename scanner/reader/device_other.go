//go:build !linux

package reader

// NewKeyboard returns ErrUnsupported: evdev is Linux only.
func NewKeyboard(path string, cfg Config) (*Reader, error) { return nil, ErrUnsupported }

// NewSerial returns ErrUnsupported: this package sets serial ports up
// with Linux's termios.
func NewSerial(path string, cfg Config) (*Reader, error) { return nil, ErrUnsupported }

// SupportedBaud reports whether NewSerial takes baud. Here it takes no
// port at all, whatever the rate: true.
func SupportedBaud(baud int) bool { return true }
