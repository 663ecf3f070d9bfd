package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var yuyv8x4 = mode{format: fmtYUYV, width: 8, height: 4}

func TestYUYVLumaOnly(t *testing.T) {
	r := newRig(t, Config{Device: "/dev/video7"}, yuyv8x4)
	f1, want1 := yuyv(8, 4, 1)
	f2, want2 := yuyv(8, 4, 50)
	d := r.device(frames(f1), frames(f2))

	rd, err := r.cam.Next(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Name != "/dev/video7" || !rd.At.Equal(r.clock.now()) {
		t.Errorf("read name %q at %v, want /dev/video7 at %v", rd.Name, rd.At, r.clock.now())
	}
	first := rd.Frame
	if got := pix(first); !bytes.Equal(got, want1) {
		t.Errorf("frame 1 luma\n got %v\nwant %v", got, want1)
	}
	if got := r.next(); !bytes.Equal(got, want2) {
		t.Errorf("frame 2 luma\n got %v\nwant %v", got, want2)
	}
	// The gray image is reused: the caller owns it only until the next Next.
	if got := pix(first); !bytes.Equal(got, want2) {
		t.Errorf("the frame's pixels were not reused")
	}
	h := r.cam.Health()
	if h.State != StateStreaming || h.Frames != 2 || h.Mode != "YUYV 8x4" || h.Device != "/dev/video7" {
		t.Errorf("health %+v", h)
	}
	if gets, releases, _, _ := d.counts(); gets != 2 || releases != 2 {
		t.Errorf("%d gets, %d releases; want 2 and 2", gets, releases)
	}
}

func TestGreyAndPaddedRows(t *testing.T) {
	m := mode{format: fmtGREY, width: 5, height: 3}
	r := newRig(t, Config{}, m)
	packed := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	padded := []byte{1, 2, 3, 4, 5, 0, 0, 6, 7, 8, 9, 10, 0, 0, 11, 12, 13, 14, 15, 0, 0}
	r.device(frames(packed), frames(padded))
	for i := range 2 {
		if got := r.next(); !bytes.Equal(got, packed) {
			t.Errorf("frame %d: got %v, want %v", i, got, packed)
		}
	}
}

func TestNewestFrameDropsStale(t *testing.T) {
	r := newRig(t, Config{Buffers: 3}, yuyv8x4)
	f1, _ := yuyv(8, 4, 1)
	f2, _ := yuyv(8, 4, 2)
	f3, want3 := yuyv(8, 4, 3)
	f4, want4 := yuyv(8, 4, 4)
	d := r.device(frames(f1, f2, f3), frames(f4))
	if got := r.next(); !bytes.Equal(got, want3) {
		t.Errorf("got the luma of %v, want the newest frame's", got[:3])
	}
	if got := r.next(); !bytes.Equal(got, want4) {
		t.Errorf("second read: got %v, want frame 4", got[:3])
	}
	h := r.cam.Health()
	if h.Stale != 2 || h.Frames != 2 {
		t.Errorf("health %+v, want 2 stale and 2 frames", h)
	}
	if gets, releases, _, _ := d.counts(); gets != 4 || releases != 4 {
		t.Errorf("%d gets, %d releases; want 4 each", gets, releases)
	}
}

func TestMoreFramesThanBuffers(t *testing.T) {
	r := newRig(t, Config{Buffers: 2}, yuyv8x4)
	var fs [][]byte
	for i := range 5 {
		f, _ := yuyv(8, 4, byte(i))
		fs = append(fs, f)
	}
	_, want := yuyv(8, 4, 1)
	d := r.device(frames(fs...))
	// The driver kept the two frames it had buffers for; the newest of
	// those is returned.
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v, want frame 1", got[:3])
	}
	if d.driverDrop != 3 || r.cam.Health().Stale != 1 {
		t.Errorf("driver dropped %d, stale %d; want 3 and 1", d.driverDrop, r.cam.Health().Stale)
	}
}

func TestTimeoutsAreCounted(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	f, want := yuyv(8, 4, 9)
	r.device(timeout, timeout, spurious, frames(f))
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
	if h := r.cam.Health(); h.Timeouts != 2 || h.Restarts != 0 {
		t.Errorf("health %+v, want 2 timeouts and no restart", h)
	}
	if got := r.clock.slept(); !reflect.DeepEqual(got, []time.Duration{spuriousPause}) {
		t.Errorf("paused %v after a spurious wake-up, want %v", got, spuriousPause)
	}
}

func TestStallRestartsStreaming(t *testing.T) {
	r := newRig(t, Config{RestartAfter: 3 * time.Second}, yuyv8x4)
	f, want := yuyv(8, 4, 5)
	d := r.device(timeout, timeout, timeout, frames(f))
	err := r.nextErr()
	if !isErr(err, ErrStalled) || !strings.Contains(err.Error(), "streaming restarted") {
		t.Fatalf("err = %v, want ErrStalled and a restart", err)
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("after the restart: got %v", got[:3])
	}
	_, _, starts, stops := d.counts()
	h := r.cam.Health()
	if starts != 2 || stops != 1 || h.Restarts != 1 || h.Timeouts != 3 || h.State != StateStreaming {
		t.Errorf("starts %d stops %d, health %+v", starts, stops, h)
	}
	if !strings.Contains(h.LastError, "no frame") {
		t.Errorf("last error %q", h.LastError)
	}
}

func TestRepeatedStallsReopen(t *testing.T) {
	r := newRig(t, Config{RestartAfter: 2 * time.Second}, yuyv8x4)
	f, want := yuyv(8, 4, 5)
	var script []step
	for range 3 * 2 {
		script = append(script, timeout)
	}
	d1 := r.device(script...)
	r.device(frames(f))
	for i := range 3 {
		err := r.nextErr()
		if !isErr(err, ErrStalled) {
			t.Fatalf("stall %d: err = %v, want ErrStalled", i, err)
		}
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("after reopening: got %v", got[:3])
	}
	h := r.cam.Health()
	if h.Restarts != 3 || h.Reopens != 1 || h.Frames != 1 {
		t.Errorf("health %+v, want 3 restarts, 1 reopen", h)
	}
	if !d1.closed {
		t.Error("the stalled device was not closed")
	}
	if len(r.clock.slept()) != 0 {
		t.Errorf("waited %v before reopening a stalled device", r.clock.slept())
	}
}

func TestUnplugReopensWithBackoff(t *testing.T) {
	r := newRig(t, Config{MaxBackoff: 2 * time.Second}, yuyv8x4)
	r.cam.stable = func(p string) string {
		if p == DefaultDevice {
			return "/dev/v4l/by-id/usb-Acme_Cam-video-index0"
		}
		return ""
	}
	f1, want1 := yuyv(8, 4, 1)
	f2, want2 := yuyv(8, 4, 2)
	d1 := r.device(frames(f1), unplug)
	for range 5 {
		r.openFails(fmt.Errorf("open: %w", syscall.ENOENT))
	}
	r.device(frames(f2))

	if got := r.next(); !bytes.Equal(got, want1) {
		t.Fatalf("first frame: %v", got[:3])
	}
	err := r.nextErr()
	if !isErr(err, ErrUnplugged) || !isErr(err, syscall.ENODEV) {
		t.Fatalf("err = %v, want ErrUnplugged wrapping ENODEV", err)
	}
	if h := r.cam.Health(); h.State != StateReopening || h.Unplugs != 1 {
		t.Errorf("health after unplug %+v", h)
	}
	if !d1.closed {
		t.Error("the unplugged device was not closed")
	}
	for i := range 5 {
		err := r.nextErr()
		if !isErr(err, syscall.ENOENT) {
			t.Fatalf("reopen %d: err = %v, want ENOENT", i, err)
		}
	}
	if got := r.next(); !bytes.Equal(got, want2) {
		t.Errorf("after the reopen: got %v", got[:3])
	}
	wantSleeps := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	if got := r.clock.slept(); !reflect.DeepEqual(got, wantSleeps) {
		t.Errorf("backoff %v, want %v", got, wantSleeps)
	}
	wantPaths := []string{DefaultDevice}
	for range 6 {
		wantPaths = append(wantPaths, "/dev/v4l/by-id/usb-Acme_Cam-video-index0")
	}
	if got := r.opener.opened(); !reflect.DeepEqual(got, wantPaths) {
		t.Errorf("opened %v, want %v", got, wantPaths)
	}
	h := r.cam.Health()
	if h.State != StateStreaming || h.Reopens != 1 || h.Frames != 2 || h.Device != wantPaths[1] {
		t.Errorf("health %+v", h)
	}
	if r.cam.backoff != minBackoff {
		t.Errorf("backoff %v after a frame, want it reset to %v", r.cam.backoff, minBackoff)
	}
}

func TestFirstOpenFailsThenRecovers(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	r.openFails(errors.New("not a video capture device"))
	f, want := yuyv(8, 4, 3)
	r.device(frames(f))
	if err := r.nextErr(); !strings.Contains(err.Error(), "camera: open /dev/video0: not a video capture device") {
		t.Errorf("err = %v", err)
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
	if h := r.cam.Health(); h.Reopens != 0 {
		t.Errorf("a first open that succeeds late is not a reopen: %+v", h)
	}
}

func TestStartFailure(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	d := r.device()
	d.startErrs = []error{fmt.Errorf("Failed to start streaming: %w", syscall.ENOSPC)}
	f, want := yuyv(8, 4, 3)
	r.device(frames(f))
	if err := r.nextErr(); !isErr(err, syscall.ENOSPC) {
		t.Errorf("err = %v, want ENOSPC", err)
	}
	if !d.closed {
		t.Error("a device that failed to start was not closed")
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
}

func TestGarbageFramesAreSkipped(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	good, want := yuyv(8, 4, 4)
	d := r.device(
		frames(good[:10]),          // short
		frames(nil),                // empty
		frames(good[:len(good)-1]), // one byte short
		frames(append(good, make([]byte, 1000)...)), // another size entirely
		frames(good),
	)
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
	h := r.cam.Health()
	if h.Bad != 4 || h.Frames != 1 || !strings.Contains(h.LastError, "bad frame") {
		t.Errorf("health %+v, want 4 bad frames", h)
	}
	if gets, releases, _, _ := d.counts(); gets != 5 || releases != 5 {
		t.Errorf("%d gets, %d releases", gets, releases)
	}
}

func TestOnlyGarbageStalls(t *testing.T) {
	r := newRig(t, Config{RestartAfter: time.Second}, yuyv8x4)
	var script []step
	for range 40 {
		script = append(script, frames([]byte{1, 2, 3}))
	}
	r.device(script...)
	if err := r.nextErr(); !isErr(err, ErrStalled) {
		t.Errorf("err = %v, want ErrStalled", err)
	}
}

func TestGetErrorReopens(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	f, want := yuyv(8, 4, 4)
	d := r.device(frames(f))
	d.getErrAt = map[int]error{1: syscall.EIO}
	r.device(frames(f))
	err := r.nextErr()
	if !isErr(err, syscall.EIO) || isErr(err, ErrUnplugged) {
		t.Errorf("err = %v, want EIO, not an unplug", err)
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
}

func TestWaitErrorReopens(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	d := r.device(step{err: syscall.EBADF})
	f, want := yuyv(8, 4, 4)
	r.device(frames(f))
	if err := r.nextErr(); !isErr(err, syscall.EBADF) {
		t.Errorf("err = %v", err)
	}
	if !d.closed {
		t.Error("not closed")
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
}

func TestUnplugWhileDraining(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	f1, _ := yuyv(8, 4, 1)
	f2, _ := yuyv(8, 4, 2)
	d := r.device(frames(f1, f2))
	d.getErrAt = map[int]error{2: syscall.ENODEV} // the second get, while draining
	f3, want := yuyv(8, 4, 3)
	r.device(frames(f3))
	if err := r.nextErr(); !isErr(err, ErrUnplugged) {
		t.Errorf("err = %v, want ErrUnplugged", err)
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
}

func TestReleaseFailsAfterCopy(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	f, want := yuyv(8, 4, 6)
	d := r.device(frames(f))
	d.releaseErrs = []error{syscall.ENODEV}
	r.device(frames(f))
	// The frame was copied before the release failed: it is good.
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("got %v", got[:3])
	}
	if err := r.nextErr(); !isErr(err, ErrUnplugged) {
		t.Errorf("err = %v, want the release's fault reported next", err)
	}
	if got := r.next(); !bytes.Equal(got, want) {
		t.Errorf("after reopening: got %v", got[:3])
	}
}

func TestContextAndClose(t *testing.T) {
	r := newRig(t, Config{}, yuyv8x4)
	d := r.device() // the script is empty: the first wait cancels the context
	if _, err := r.cam.Next(r.ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := r.cam.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.cam.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !d.closed {
		t.Error("Close did not close the device")
	}
	if _, err := r.cam.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
	if h := r.cam.Health(); h.State != StateClosed {
		t.Errorf("state %v", h.State)
	}
}

// blockingDevice never has a frame: each wait takes a little real time.
type blockingDevice struct{ fakeDevice }

func (d *blockingDevice) wait(seconds uint32) error {
	time.Sleep(time.Millisecond)
	return errTimeout
}

func TestCloseUnblocksNext(t *testing.T) {
	cam, err := newCamera(Config{RestartAfter: time.Hour}, func(string, Config) (device, mode, error) {
		d := &blockingDevice{}
		d.t = t
		d.length, d.held = map[uint32]int{}, map[uint32]bool{}
		return d, yuyv8x4, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := cam.Next(context.Background())
		errc <- err
	}()
	// Health is safe to read while Next runs.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			_ = cam.Health()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := cam.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Next returned %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	wg.Wait()
}

func TestConfig(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Device != DefaultDevice || c.Width != 640 || c.Height != 480 || c.FPS != 30 || c.Buffers != 3 ||
		c.RestartAfter != 3*time.Second || c.MaxBackoff != 5*time.Second || c.Now == nil {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range []Config{
		{Buffers: 1}, {Buffers: 5}, {Width: -1, Height: 4}, {Width: 640}, {Width: 10000, Height: 10},
		{FPS: -3}, {Format: "H264"}, {RestartAfter: -time.Second},
	} {
		if _, err := newCamera(bad, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "camera: ") {
			t.Errorf("config %+v: err = %v, want a camera: error", bad, err)
		}
	}
}

func TestEndlessSpuriousWakeupsStall(t *testing.T) {
	r := newRig(t, Config{RestartAfter: time.Second}, yuyv8x4)
	var script []step
	for range 200 {
		script = append(script, spurious)
	}
	r.device(script...)
	if err := r.nextErr(); !isErr(err, ErrStalled) {
		t.Errorf("err = %v, want ErrStalled", err)
	}
	if n := len(r.clock.slept()); n < 90 || n > 110 {
		t.Errorf("paused %d times in a second of spurious wake-ups", n)
	}
}
