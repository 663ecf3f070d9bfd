package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when the fake device waits or the
// camera sleeps.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// step is what the fake device does on one blocking wait.
type step struct {
	frames   [][]byte // frames that become ready together
	timeout  bool     // no frame within the wait
	err      error    // the wait fails with err
	unplug   bool     // the device goes away: waits say ready, get fails with ENODEV
	spurious bool     // the wait says ready but no frame is (get fails with EAGAIN)
}

func frames(f ...[]byte) step { return step{frames: f} }

var (
	timeout  = step{timeout: true}
	unplug   = step{unplug: true}
	spurious = step{spurious: true}
)

// fakeDevice is a V4L2 device in memory with a fixed number of buffers.
// It plays a script of steps, one per blocking wait, and then cancels the
// test's context. A buffer that is released is overwritten at once, as a
// driver would refill it, so a frame read after its release shows.
type fakeDevice struct {
	t      *testing.T
	clock  *fakeClock
	cancel context.CancelFunc
	script []step

	mu         sync.Mutex
	mem        [][]byte // each buffer's memory
	free       []uint32 // queued to the driver, empty
	ready      []uint32 // filled, waiting to be dequeued, oldest first
	length     map[uint32]int
	held       map[uint32]bool // dequeued, not released
	streaming  bool
	closed     bool
	unplugged  bool
	gets       int
	releases   int
	starts     int
	stops      int
	driverDrop int // frames lost because no buffer was free

	startErrs   []error       // returned by the next starts, in order
	getErrAt    map[int]error // get attempt n (from 1) fails with this error
	getAttempts int
	releaseErrs []error // returned by the next releases
}

func newFakeDevice(t *testing.T, clock *fakeClock, cancel context.CancelFunc, buffers int, script ...step) *fakeDevice {
	d := &fakeDevice{
		t: t, clock: clock, cancel: cancel, script: script,
		length: map[uint32]int{}, held: map[uint32]bool{},
	}
	for i := range buffers {
		d.mem = append(d.mem, make([]byte, 1<<16))
		d.free = append(d.free, uint32(i))
	}
	t.Cleanup(d.checkReleased)
	return d
}

// checkReleased checks that every buffer dequeued was given back exactly
// once (release also fails the test on a second release).
func (d *fakeDevice) checkReleased() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.held) != 0 || d.gets != d.releases {
		d.t.Errorf("fake device: %d gets, %d releases, buffers still held: %v", d.gets, d.releases, d.held)
	}
}

func (d *fakeDevice) start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.starts++
	if len(d.startErrs) > 0 {
		err := d.startErrs[0]
		d.startErrs = d.startErrs[1:]
		return err
	}
	if d.unplugged {
		return syscall.ENODEV
	}
	if d.closed || d.streaming {
		d.t.Errorf("fake device: start when closed=%v streaming=%v", d.closed, d.streaming)
	}
	d.streaming = true
	return nil
}

func (d *fakeDevice) wait(seconds uint32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || !d.streaming {
		d.t.Errorf("fake device: wait when closed=%v streaming=%v", d.closed, d.streaming)
		return syscall.EINVAL
	}
	if d.unplugged || len(d.ready) > 0 {
		return nil
	}
	if seconds == 0 {
		return errTimeout
	}
	if len(d.script) == 0 {
		d.cancel()
		d.clock.advance(time.Duration(seconds) * time.Second)
		return errTimeout
	}
	s := d.script[0]
	d.script = d.script[1:]
	switch {
	case s.timeout:
		d.clock.advance(time.Duration(seconds) * time.Second)
		return errTimeout
	case s.err != nil:
		return s.err
	case s.unplug:
		d.unplugged = true
		return nil
	case s.spurious:
		return nil
	}
	d.clock.advance(33 * time.Millisecond)
	for _, f := range s.frames {
		if len(d.free) == 0 {
			d.driverDrop++
			continue
		}
		i := d.free[0]
		d.free = d.free[1:]
		copy(d.mem[i], f)
		d.length[i] = len(f)
		d.ready = append(d.ready, i)
	}
	return nil
}

func (d *fakeDevice) get() ([]byte, uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unplugged {
		return nil, 0, syscall.ENODEV
	}
	d.getAttempts++
	if err := d.getErrAt[d.getAttempts]; err != nil {
		return nil, 0, err
	}
	if len(d.ready) == 0 {
		return nil, 0, syscall.EAGAIN
	}
	i := d.ready[0]
	d.ready = d.ready[1:]
	d.held[i] = true
	d.gets++
	return d.mem[i][:d.length[i]], i, nil
}

func (d *fakeDevice) release(i uint32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.held[i] {
		d.t.Errorf("fake device: release of buffer %d, which is not held", i)
		return syscall.EINVAL
	}
	delete(d.held, i)
	d.releases++
	for j := range d.length[i] {
		d.mem[i][j] = 0xee // the driver fills it again
	}
	d.free = append(d.free, i)
	if len(d.releaseErrs) > 0 {
		err := d.releaseErrs[0]
		d.releaseErrs = d.releaseErrs[1:]
		return err
	}
	if d.unplugged {
		return syscall.ENODEV
	}
	return nil
}

func (d *fakeDevice) stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stops++
	if len(d.held) > 0 {
		d.t.Errorf("fake device: stop with buffers held: %v", d.held)
	}
	d.streaming = false
	d.free = append(d.free, d.ready...)
	d.ready = nil
	if d.unplugged {
		return syscall.ENODEV
	}
	return nil
}

func (d *fakeDevice) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.held) > 0 {
		d.t.Errorf("fake device: close with buffers held: %v", d.held)
	}
	d.closed = true
	d.streaming = false
	return nil
}

func (d *fakeDevice) counts() (gets, releases, starts, stops int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gets, d.releases, d.starts, d.stops
}

// fakeOpener hands out devices and errors in order, one per open.
type fakeOpener struct {
	t       *testing.T
	mode    mode
	results []any // *fakeDevice or error
	mu      sync.Mutex
	paths   []string
}

func (o *fakeOpener) open(path string, cfg Config) (device, mode, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.paths = append(o.paths, path)
	if len(o.results) == 0 {
		return nil, mode{}, fmt.Errorf("fake: no device at %s: %w", path, syscall.ENOENT)
	}
	r := o.results[0]
	o.results = o.results[1:]
	switch r := r.(type) {
	case *fakeDevice:
		return r, o.mode, nil
	case error:
		return nil, mode{}, r
	}
	o.t.Fatalf("fake opener: bad result %T", r)
	return nil, mode{}, nil
}

func (o *fakeOpener) opened() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.paths...)
}

// rig is a camera over fakes.
type rig struct {
	cam    *Camera
	clock  *fakeClock
	opener *fakeOpener
	ctx    context.Context
	cancel context.CancelFunc
	t      *testing.T
	m      mode
}

func newRig(t *testing.T, cfg Config, m mode) *rig {
	t.Helper()
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opener := &fakeOpener{t: t, mode: m}
	cfg.Now = clock.now
	cam, err := newCamera(cfg, opener.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	cam.sleep = clock.sleep
	t.Cleanup(func() { cam.Close() })
	return &rig{cam: cam, clock: clock, opener: opener, ctx: ctx, cancel: cancel, t: t, m: m}
}

// device adds a device for the next open, playing script.
func (r *rig) device(script ...step) *fakeDevice {
	d := newFakeDevice(r.t, r.clock, r.cancel, r.cam.cfg.Buffers, script...)
	r.opener.results = append(r.opener.results, d)
	return d
}

// openFails makes the next open fail with err.
func (r *rig) openFails(err error) {
	r.opener.results = append(r.opener.results, err)
}

// next calls Next and fails the test on an error.
func (r *rig) next() []byte {
	r.t.Helper()
	rd, err := r.cam.Next(r.ctx)
	if err != nil {
		r.t.Fatalf("Next: %v", err)
	}
	if rd.Frame == nil || rd.Text != "" {
		r.t.Fatalf("Next: read %+v, want a frame", rd)
	}
	g := rd.Frame
	if g.Rect.Dx() != r.m.width || g.Rect.Dy() != r.m.height {
		r.t.Fatalf("Next: frame %v, want %dx%d", g.Rect, r.m.width, r.m.height)
	}
	return pix(g)
}

// pix returns the pixels of g, row after row, without the stride's padding.
func pix(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := make([]byte, 0, w*h)
	for y := range h {
		out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
	}
	return out
}

// nextErr calls Next and returns its error, failing the test on a frame.
func (r *rig) nextErr() error {
	r.t.Helper()
	rd, err := r.cam.Next(r.ctx)
	if err == nil {
		r.t.Fatalf("Next returned a frame (%v), want an error", rd.Frame.Rect)
	}
	return err
}

// yuyv makes a YUYV frame whose luma at (x, y) is seed+x+7y, with chroma
// bytes that differ from the luma, and the luma it should give.
func yuyv(w, h int, seed byte) (frame, luma []byte) {
	frame = make([]byte, 2*w*h)
	luma = make([]byte, w*h)
	for y := range h {
		for x := range w {
			v := seed + byte(x) + byte(7*y)
			luma[y*w+x] = v
			frame[2*(y*w+x)] = v
			frame[2*(y*w+x)+1] = 0x80 ^ byte(x)
		}
	}
	return frame, luma
}

func isErr(err, target error) bool { return errors.Is(err, target) }
