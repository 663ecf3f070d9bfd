package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"syscall"
	"time"

	"github.com/checkpointgate/checkpoint/internal/wait"
	"github.com/checkpointgate/checkpoint/scanner"
)

// Defaults for the zero values of Config.
const (
	DefaultDevice       = "/dev/video0"
	DefaultWidth        = 640
	DefaultHeight       = 480
	DefaultFPS          = 30
	DefaultBuffers      = 3
	DefaultRestartAfter = 3 * time.Second
	DefaultMaxBackoff   = 5 * time.Second
)

// MaxSide bounds Config.Width and Height, and MaxFPS Config.FPS.
const (
	MaxSide = maxSide
	MaxFPS  = 1000
)

// MinBuffers and MaxBuffers bound Config.Buffers: fewer than two buffers
// stalls the stream while a frame is copied, and more only keep frames
// that are older.
const (
	MinBuffers = 2
	MaxBuffers = 4
)

// minBackoff is the first wait before reopening a device that failed; it
// doubles on every failure up to Config.MaxBackoff.
const minBackoff = 250 * time.Millisecond

// maxRestarts is how many stream restarts in a row, without a usable frame
// between them, are tried before the device is closed and reopened.
const maxRestarts = 2

// waitSeconds is how long one wait for a frame blocks (the webcam library
// counts in whole seconds). It bounds how late Next notices that its
// context is done or that Close was called.
const waitSeconds = 1

// spuriousPause is how long Next pauses when a wait reports a frame ready
// and there is none.
const spuriousPause = 10 * time.Millisecond

// maxDrain bounds how many ready frames Next dequeues to reach the newest.
const maxDrain = 4 * MaxBuffers

// Config says which device to open and how. The zero value of every field
// means its documented default.
type Config struct {
	// Device is the video device to open. A /dev/v4l/by-id/ path names the
	// same camera after it is unplugged and plugged in again; a
	// /dev/videoN path may not, so when a by-id link to it exists, reopening
	// uses that link. "" means DefaultDevice.
	Device string

	// Width and Height are the frame size to ask for; 0 means
	// DefaultWidth × DefaultHeight. When the device does not offer that
	// size, the nearest one it offers is used.
	Width, Height int

	// FPS is the frame rate to ask for; 0 means DefaultFPS. A driver that
	// cannot set it delivers frames at its own rate.
	FPS int

	// Format is the pixel format: "YUYV", "GREY" or "MJPEG"; "" means the
	// first the device offers, in that order (at the wanted size if any
	// offers it).
	Format string

	// Buffers is how many frame buffers the driver fills, MinBuffers to
	// MaxBuffers; 0 means DefaultBuffers.
	Buffers int

	// RestartAfter is how long the camera may go without a usable frame
	// before streaming is restarted; 0 means DefaultRestartAfter.
	RestartAfter time.Duration

	// MaxBackoff bounds the wait between attempts to reopen a device that
	// is gone or failing; 0 means DefaultMaxBackoff. The first wait is
	// 250 ms and each failure doubles it.
	MaxBackoff time.Duration

	// Now is the clock for Read.At and for the timers; nil means time.Now.
	Now func() time.Time
}

// withDefaults returns c with its zero values replaced by the defaults,
// or an error for a value out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Device == "" {
		c.Device = DefaultDevice
	}
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = DefaultWidth, DefaultHeight
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > maxSide || c.Height > maxSide {
		return c, fmt.Errorf("camera: frame size %dx%d out of range (1 to %d a side)", c.Width, c.Height, maxSide)
	}
	if c.FPS == 0 {
		c.FPS = DefaultFPS
	}
	if c.FPS < 1 || c.FPS > MaxFPS {
		return c, fmt.Errorf("camera: frame rate %d out of range", c.FPS)
	}
	if _, err := parseFormat(c.Format); err != nil {
		return c, fmt.Errorf("camera: %w", err)
	}
	if c.Buffers == 0 {
		c.Buffers = DefaultBuffers
	}
	if c.Buffers < MinBuffers || c.Buffers > MaxBuffers {
		return c, fmt.Errorf("camera: %d buffers out of range (%d to %d)", c.Buffers, MinBuffers, MaxBuffers)
	}
	if c.RestartAfter == 0 {
		c.RestartAfter = DefaultRestartAfter
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.RestartAfter < 0 || c.MaxBackoff < 0 {
		return c, errors.New("camera: negative duration in config")
	}
	if c.MaxBackoff < minBackoff {
		c.MaxBackoff = minBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Errors that Next returns, wrapped with the device path. After any of
// them but ErrClosed and ErrUnsupported, the camera recovers by itself and
// later calls to Next return frames again.
var (
	// ErrUnplugged: the device went away (ENODEV); it is closed and
	// reopened with backoff.
	ErrUnplugged = errors.New("camera unplugged")
	// ErrStalled: no usable frame for Config.RestartAfter; streaming was
	// restarted, or the device reopened.
	ErrStalled = errors.New("no frame from camera")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("camera: closed")
	// ErrUnsupported: V4L2 capture is not available on this system.
	ErrUnsupported = errors.New("camera: V4L2 capture needs Linux")
)

// State is what the camera is doing, for Health.
type State string

// The states of a camera.
const (
	StateIdle      State = "idle"      // not opened yet: the first Next opens it
	StateStreaming State = "streaming" // open and streaming
	StateReopening State = "reopening" // the device is gone or failed; Next reopens it with backoff
	StateClosed    State = "closed"    // Close was called
)

// Health is a snapshot of the camera for the daemon's health report and
// metrics. The counters only grow.
type Health struct {
	State  State
	Device string // the device path in use, or last tried
	Mode   string // the format and size negotiated, such as "YUYV 640x480"; "" before the first open

	Frames   uint64 // frames returned by Next
	Stale    uint64 // frames dropped because a newer one was ready
	Bad      uint64 // frames dropped as malformed (short, wrong size, a JPEG that does not decode)
	Timeouts uint64 // one-second waits that ended with no frame
	Restarts uint64 // stream restarts after RestartAfter without a usable frame
	Unplugs  uint64 // times the device went away (ENODEV)
	Reopens  uint64 // successful opens after the first

	LastFrame   time.Time // when the last frame was returned; zero if none yet
	LastError   string    // the last fault or bad frame; never image content
	LastErrorAt time.Time
}

// device is one open video device. Its methods follow the webcam library
// (Open, StartStreaming, WaitForFrame, GetFrame, ReleaseFrame,
// StopStreaming, Close) so that the loop in this file is tested with a
// fake in place of hardware.
type device interface {
	// start queues every buffer and turns streaming on.
	start() error
	// wait blocks until a frame is ready or the timeout, in whole seconds,
	// passes (errTimeout); 0 only polls. A device that is gone may report
	// ready: get then fails with ENODEV.
	wait(seconds uint32) error
	// get dequeues the oldest ready frame: its bytes, in a buffer the
	// driver reuses once it is released, and the buffer's index. It fails
	// with EAGAIN when no frame is ready.
	get() ([]byte, uint32, error)
	// release gives a buffer from get back to the driver.
	release(index uint32) error
	// stop turns streaming off and unmaps the buffers.
	stop() error
	// close stops streaming if needed and closes the device.
	close() error
}

// openFunc opens the device at path and sets it up as cfg asks, returning
// the mode it delivers frames in.
type openFunc func(path string, cfg Config) (device, mode, error)

// errTimeout is what device.wait returns when no frame came in time.
var errTimeout = errors.New("timed out waiting for a frame")

// Camera is a V4L2 camera as a scanner.Source. Next and Close may be
// called from different goroutines, and Health from any.
type Camera struct {
	cfg    Config
	open   openFunc
	stable func(path string) string // the by-id link to path, or ""
	sleep  func(ctx context.Context, d time.Duration) error
	done   chan struct{} // closed by Close
	once   sync.Once

	mu        sync.Mutex // held by Next and Close while they use the device
	dev       device
	mode      mode
	path      string    // the path dev was opened from, or last tried
	byID      string    // the by-id link to the camera, once found
	opened    bool      // a device was opened at least once
	retryAt   time.Time // no open attempt before this; zero: now
	backoff   time.Duration
	lastFrame time.Time // the last usable frame, or when streaming (re)started
	restarts  int       // stream restarts since the last usable frame
	pending   error     // a fault to return from the next call to Next
	frames    frameBuffer

	hmu    sync.Mutex
	health Health
}

var _ scanner.Source = (*Camera)(nil)

// New returns a camera for the device cfg names. It does not open the
// device: the first call to Next does, so that a daemon starts before its
// camera is plugged in. It fails only for a Config out of range, and with
// ErrUnsupported on a system without V4L2.
func New(cfg Config) (*Camera, error) {
	if platformOpen == nil {
		return nil, ErrUnsupported
	}
	return newCamera(cfg, platformOpen, platformStable)
}

func newCamera(cfg Config, open openFunc, stable func(string) string) (*Camera, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Camera{
		cfg:     cfg,
		open:    open,
		stable:  stable,
		done:    make(chan struct{}),
		backoff: minBackoff,
		path:    cfg.Device,
	}
	c.sleep = func(ctx context.Context, d time.Duration) error { return wait.Sleep(ctx, c.done, d, ErrClosed) }
	c.health = Health{State: StateIdle, Device: cfg.Device}
	return c, nil
}

// Next returns the newest frame the camera has: a *image.Gray of the
// negotiated size, which stays the caller's until the next call to Next
// (which reuses its pixels). Frames that were waiting behind it are
// dropped, and malformed frames are skipped and counted.
//
// It opens the device on the first call and reopens it after a fault. It
// returns ctx.Err() when ctx is done (noticed within about a second),
// ErrClosed after Close, and, for faults, an error wrapping ErrUnplugged,
// ErrStalled or the device's error: the camera keeps recovering, and later
// calls return frames again once it can. While the device cannot be
// opened, each call waits out the backoff, tries once, and returns the
// error.
func (c *Camera) Next(ctx context.Context) (scanner.Read, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := wait.Check(ctx, c.done, ErrClosed); err != nil {
		return scanner.Read{}, err
	}
	if err := c.pending; err != nil {
		c.pending = nil
		return scanner.Read{}, err
	}
	if c.dev == nil {
		if err := c.openDevice(ctx); err != nil {
			return scanner.Read{}, err
		}
	}
	g, err := c.grab(ctx)
	if err != nil {
		return scanner.Read{}, err
	}
	return scanner.Read{Frame: g, Name: c.path, At: c.lastFrame}, nil
}

// Close stops streaming and closes the device. A Next blocked in a wait
// returns ErrClosed within about a second. Close may be called more than
// once.
func (c *Camera) Close() error {
	c.once.Do(func() { close(c.done) })
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.dev != nil {
		err = c.dev.close()
		c.dev = nil
		if err != nil {
			err = fmt.Errorf("camera: close %s: %w", c.path, err)
		}
	}
	c.update(func(h *Health) { h.State = StateClosed })
	return err
}

// Health returns a snapshot of the camera's state and counters.
func (c *Camera) Health() Health {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return c.health
}

func (c *Camera) update(f func(h *Health)) {
	c.hmu.Lock()
	f(&c.health)
	c.hmu.Unlock()
}

// record keeps err as the last error, and sets the state.
func (c *Camera) record(err error, s State) {
	now := c.cfg.Now()
	c.update(func(h *Health) {
		h.LastError = err.Error()
		h.LastErrorAt = now
		h.State = s
	})
}

// openDevice waits out the backoff, then opens the device and starts
// streaming, preferring the camera's by-id link once one is known.
func (c *Camera) openDevice(ctx context.Context) error {
	if !c.retryAt.IsZero() {
		if d := c.retryAt.Sub(c.cfg.Now()); d > 0 {
			if err := c.sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	path := c.cfg.Device
	if c.byID != "" {
		path = c.byID
	}
	c.path = path
	dev, m, err := c.open(path, c.cfg)
	if err == nil {
		if err = dev.start(); err != nil {
			dev.close()
			err = fmt.Errorf("start streaming: %w", err)
		}
	}
	if err != nil {
		c.scheduleRetry()
		err = fmt.Errorf("camera: open %s: %w", path, err)
		c.update(func(h *Health) { h.Device = path })
		c.record(err, StateReopening)
		return err
	}
	c.dev, c.mode = dev, m
	c.retryAt = time.Time{}
	c.lastFrame = c.cfg.Now()
	c.restarts = 0
	if c.byID == "" && c.stable != nil {
		c.byID = c.stable(path)
	}
	reopened := c.opened
	c.opened = true
	c.update(func(h *Health) {
		h.State = StateStreaming
		h.Device = path
		h.Mode = m.String()
		if reopened {
			h.Reopens++
		}
	})
	return nil
}

// scheduleRetry sets when the next open may be tried, and doubles the
// backoff up to its bound.
func (c *Camera) scheduleRetry() {
	c.retryAt = c.cfg.Now().Add(c.backoff)
	c.backoff = min(2*c.backoff, c.cfg.MaxBackoff)
}

// closeDevice closes the device; the next Next reopens it.
func (c *Camera) closeDevice() {
	if c.dev != nil {
		c.dev.close() // a device that is gone fails to close; nothing to do about it
		c.dev = nil
	}
}

// fault closes the device after err from op, schedules the reopen, and
// returns the error for Next to return.
func (c *Camera) fault(op string, err error) error {
	c.closeDevice()
	c.scheduleRetry()
	if isUnplug(err) {
		err = fmt.Errorf("camera: %s: %w (%s: %w)", c.path, ErrUnplugged, op, err)
		c.update(func(h *Health) { h.Unplugs++ })
	} else {
		err = fmt.Errorf("camera: %s: %s: %w", c.path, op, err)
	}
	c.record(err, StateReopening)
	return err
}

func isUnplug(err error) bool {
	return errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO)
}

func isAgain(err error) bool { return errors.Is(err, syscall.EAGAIN) }

// stalled reports whether the camera has gone RestartAfter without a
// usable frame.
func (c *Camera) stalled() bool {
	return c.cfg.Now().Sub(c.lastFrame) >= c.cfg.RestartAfter
}

// restart restarts streaming after a stall, or closes the device for a
// reopen when restarting has not helped, and returns the error for Next.
func (c *Camera) restart() error {
	since := c.cfg.Now().Sub(c.lastFrame).Round(time.Millisecond)
	c.restarts++
	c.update(func(h *Health) { h.Restarts++ })
	if c.restarts > maxRestarts {
		c.closeDevice()
		c.retryAt = time.Time{} // reopen at once; the backoff applies if that fails
		err := fmt.Errorf("camera: %s: %w for %v; reopening the device", c.path, ErrStalled, since)
		c.record(err, StateReopening)
		return err
	}
	err := c.dev.stop()
	if err == nil {
		err = c.dev.start()
	}
	if err != nil {
		return c.fault("restart streaming", err)
	}
	c.lastFrame = c.cfg.Now()
	err = fmt.Errorf("camera: %s: %w for %v; streaming restarted", c.path, ErrStalled, since)
	c.record(err, StateStreaming)
	return err
}

// grab waits for frames until it has a usable one, and returns it. Every
// buffer it dequeues it gives back before it returns, and before the
// frame's bytes are used.
func (c *Camera) grab(ctx context.Context) (*image.Gray, error) {
	for {
		if err := wait.Check(ctx, c.done, ErrClosed); err != nil {
			return nil, err
		}
		err := c.dev.wait(waitSeconds)
		if errors.Is(err, errTimeout) {
			c.update(func(h *Health) { h.Timeouts++ })
			if c.stalled() {
				return nil, c.restart()
			}
			continue
		}
		if err != nil {
			return nil, c.fault("wait for frame", err)
		}
		buf, index, err := c.dev.get()
		if isAgain(err) {
			// Ready with no frame: poll reports an error condition at
			// once, and would make this loop spin until the stall.
			if err := c.sleep(ctx, spuriousPause); err != nil {
				return nil, err
			}
			if c.stalled() {
				return nil, c.restart()
			}
			continue
		}
		if err != nil {
			return nil, c.fault("get frame", err)
		}
		buf, index, err = c.newest(buf, index)
		if err != nil {
			return nil, err
		}
		// Copy, then give the buffer back, then use the copy.
		cerr := c.frames.copyFrame(c.mode, buf)
		if rerr := c.dev.release(index); rerr != nil {
			ferr := c.fault("release frame", rerr)
			if cerr != nil {
				return nil, ferr
			}
			c.pending = ferr // return this frame; report the fault next time
		}
		var g *image.Gray
		if cerr == nil {
			g, cerr = c.frames.finish(c.mode)
		}
		if cerr == nil {
			c.gotFrame()
			return g, nil
		}
		c.update(func(h *Health) { h.Bad++ })
		if c.dev == nil { // the release failed as well: report that
			err, c.pending = c.pending, nil
			return nil, err
		}
		c.record(fmt.Errorf("camera: %s: %w", c.path, cerr), StateStreaming)
		if c.stalled() {
			return nil, c.restart()
		}
	}
}

// gotFrame notes a usable frame: the stall timer, the restart count and
// the backoff start again.
func (c *Camera) gotFrame() {
	now := c.cfg.Now()
	c.lastFrame = now
	c.restarts = 0
	c.backoff = minBackoff
	c.update(func(h *Health) {
		h.Frames++
		h.LastFrame = now
	})
}

// newest dequeues the frames that are ready behind the one in buf, giving
// each older one back, and returns the newest. Each wait(0) only polls.
func (c *Camera) newest(buf []byte, index uint32) ([]byte, uint32, error) {
	for range maxDrain {
		if c.dev.wait(0) != nil {
			break // nothing more is ready; a fault shows on the next wait
		}
		nbuf, nindex, err := c.dev.get()
		if isAgain(err) {
			break
		}
		if err != nil {
			c.dev.release(index) // the device failed; the fault is what matters
			return nil, 0, c.fault("get frame", err)
		}
		if err := c.dev.release(index); err != nil {
			c.dev.release(nindex)
			return nil, 0, c.fault("release frame", err)
		}
		c.update(func(h *Health) { h.Stale++ })
		buf, index = nbuf, nindex
	}
	return buf, index, nil
}
