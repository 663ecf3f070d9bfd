//go:build !linux

package camera

// V4L2 is Linux only: New returns ErrUnsupported elsewhere.
var (
	platformOpen   openFunc
	platformStable func(string) string
)
