//go:build linux

package camera

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"github.com/blackjack/webcam"
	"golang.org/x/sys/unix"
)

var (
	platformOpen   openFunc = openWebcam
	platformStable          = func(path string) string { return findStable(byIDDir, path) }
)

// webcamDevice is a device over github.com/blackjack/webcam.
//
// It never uses the library's ReadFrame, which gives the buffer back to
// the driver before the caller has read it (the driver may then overwrite
// it): the loop dequeues with GetFrame, copies, then calls ReleaseFrame.
// The bytes GetFrame returns are in memory mapped from the driver and
// unmapped when streaming stops, so they are never kept past a release.
type webcamDevice struct {
	w *webcam.Webcam
}

func (d *webcamDevice) start() error {
	err := d.w.StartStreaming()
	if err != nil && mappedBeforeFailing(err) {
		unmapLeftovers(d.w)
	}
	return err
}

// The library maps every buffer before it turns streaming on, and when a
// later step fails (STREAMON fails with ENOSPC when the USB bus lacks the
// bandwidth) it neither unmaps them nor marks itself streaming, so Close
// does not either: each failed start would leak the buffers' memory, and a
// camera that keeps failing would exhaust a small board's RAM.
//
// mappedBeforeFailing tells, from StartStreaming's error, whether it
// failed after making a fresh set of buffers: its messages for those steps
// (as of v0.6.1) are matched exactly. Any other error (REQBUFS failing,
// which leaves the previous, already unmapped set in place) leaves the
// buffers alone: better a leak than unmapping memory mapped since.
func mappedBeforeFailing(err error) bool {
	msg := err.Error()
	for _, p := range []string{"Failed to map memory: ", "Failed to enqueue buffer: ", "Failed to start streaming: "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// unmapLeftovers unmaps the buffers of a StartStreaming that failed after
// mapping them. They are in an unexported field, read here by reflection
// (a test checks that the field is there). unix.Munmap unmaps only a slice
// that unix.Mmap mapped and that is still mapped, and fails otherwise.
func unmapLeftovers(w *webcam.Webcam) {
	v := reflect.ValueOf(w).Elem().FieldByName("buffers")
	if !v.IsValid() || v.Type() != reflect.TypeFor[[][]byte]() {
		return
	}
	for i := range v.Len() {
		if b := v.Index(i); b.Len() > 0 {
			_ = unix.Munmap(b.Bytes())
		}
	}
}

func (d *webcamDevice) wait(seconds uint32) error {
	err := d.w.WaitForFrame(seconds)
	var timeout *webcam.Timeout
	if errors.As(err, &timeout) {
		return errTimeout
	}
	return err
}

func (d *webcamDevice) get() ([]byte, uint32, error) { return d.w.GetFrame() }

func (d *webcamDevice) release(index uint32) error { return d.w.ReleaseFrame(index) }

func (d *webcamDevice) stop() error { return d.w.StopStreaming() }

func (d *webcamDevice) close() error { return d.w.Close() }

// openWebcam opens the V4L2 device at path and sets its format, size, frame
// rate and buffer count.
func openWebcam(path string, cfg Config) (device, mode, error) {
	w, err := closeOnExec(func() (*webcam.Webcam, error) { return webcam.Open(path) }, webcamFD)
	if err != nil {
		return nil, mode{}, err
	}
	m, err := setUp(w, cfg)
	if err != nil {
		w.Close()
		return nil, mode{}, err
	}
	return &webcamDevice{w: w}, m, nil
}

// closeOnExec runs open and marks close-on-exec the descriptor fd finds
// in what it opened, before any fork can copy it. webcam.Open opens the
// device without O_CLOEXEC: a hook's command would hold the camera, and
// keep it from being opened again after a fault, for as long as it ran
// (or for good, a helper it left behind). As the syscall package asks of
// code that opens descriptors without the flag, it holds syscall.ForkLock
// for reading meanwhile. The descriptor is taken from what was opened,
// not told apart by its number: another goroutine closing a file can
// free the number the device then gets.
func closeOnExec[T any](open func() (T, error), fd func(T) (int, bool)) (T, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	v, err := open()
	if err != nil {
		return v, err
	}
	if n, ok := fd(v); ok {
		unix.CloseOnExec(n)
	}
	return v, nil
}

// webcamFD returns the device's descriptor, an unexported field of the
// library's Webcam read by reflection (TestWebcamFields checks that it is
// there).
func webcamFD(w *webcam.Webcam) (int, bool) {
	v := reflect.ValueOf(w).Elem().FieldByName("fd")
	if !v.IsValid() || v.Kind() != reflect.Uintptr {
		return 0, false
	}
	return int(v.Uint()), true
}

func setUp(w *webcam.Webcam, cfg Config) (mode, error) {
	var offered []pixelFormat
	for f := range w.GetSupportedFormats() {
		offered = append(offered, pixelFormat(f))
	}
	slices.Sort(offered)
	sizes := func(f pixelFormat) []sizeRange {
		var out []sizeRange
		for _, s := range w.GetSupportedFrameSizes(webcam.PixelFormat(f)) {
			out = append(out, sizeRange{
				minW: s.MinWidth, maxW: s.MaxWidth, stepW: s.StepWidth,
				minH: s.MinHeight, maxH: s.MaxHeight, stepH: s.StepHeight,
			})
		}
		return out
	}
	m, err := chooseMode(offered, sizes, cfg)
	if err != nil {
		return mode{}, err
	}
	// The library returns the format the driver set but the size asked
	// for, not the size set; asking for a size the device listed makes
	// them the same, and copyFrame refuses frames of another size.
	got, _, _, err := w.SetImageFormat(webcam.PixelFormat(m.format), uint32(m.width), uint32(m.height))
	if err != nil {
		return mode{}, fmt.Errorf("set format %v: %w", m, err)
	}
	if pixelFormat(got) != m.format {
		return mode{}, fmt.Errorf("set format %v: the driver chose %v", m, pixelFormat(got))
	}
	// Not every driver can set the frame rate; frames then come at the
	// device's own rate, which is no reason to fail.
	_ = w.SetFramerate(float32(cfg.FPS))
	if err := w.SetBufferCount(uint32(cfg.Buffers)); err != nil {
		return mode{}, fmt.Errorf("set buffer count: %w", err)
	}
	return m, nil
}
