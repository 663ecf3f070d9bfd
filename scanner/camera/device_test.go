//go:build linux && v4l2device

package camera

// A test with a real camera, run by hand on a device with one plugged in:
//
//	go test -tags v4l2device -run TestRealDevice -v ./scanner/camera/
//	CHECKPOINT_CAMERA=/dev/v4l/by-id/usb-...-video-index0 go test -tags v4l2device ...
//
// CHECKPOINT_CAMERA_FORMAT (YUYV, GREY, MJPEG) and CHECKPOINT_CAMERA_SIZE
// (such as 1280x720) choose the mode; the defaults are Config's.

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRealDevice(t *testing.T) {
	cfg := Config{Device: os.Getenv("CHECKPOINT_CAMERA"), Format: os.Getenv("CHECKPOINT_CAMERA_FORMAT")}
	if s := os.Getenv("CHECKPOINT_CAMERA_SIZE"); s != "" {
		if _, err := fmt.Sscanf(s, "%dx%d", &cfg.Width, &cfg.Height); err != nil {
			t.Fatalf("CHECKPOINT_CAMERA_SIZE=%q: want WIDTHxHEIGHT", s)
		}
	}
	cam, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 30
	start := time.Now()
	for i := range n {
		r, err := cam.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v (health %+v)", i, err, cam.Health())
		}
		g := r.Frame
		if g == nil || g.Rect.Dx() <= 0 || g.Rect.Dy() <= 0 || len(g.Pix) < g.Stride*(g.Rect.Dy()-1)+g.Rect.Dx() {
			t.Fatalf("frame %d: malformed %+v", i, g)
		}
		if i == 0 {
			var sum int
			for _, v := range g.Pix {
				sum += int(v)
			}
			t.Logf("first frame %v from %s, mean luma %d", g.Rect, r.Name, sum/len(g.Pix))
		}
	}
	el := time.Since(start)
	// A hook's command started now would not hold the camera.
	dev, _ := filepath.EvalSymlinks(cmp.Or(cfg.Device, DefaultDevice))
	fds, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	defer fds.Close()
	for fd := range openFDs(fds) {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); l == dev {
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Errorf("the camera's descriptor %d is not close-on-exec (flags %#x, %v)", fd, flags, err)
			}
		}
	}
	h := cam.Health()
	t.Logf("%d frames in %v (%.1f fps); health %+v", n, el, float64(n)/el.Seconds(), h)
	if h.Frames != n || h.State != StateStreaming {
		t.Errorf("health %+v", h)
	}
}

// openFDs returns the open descriptors listed in dir, /proc/self/fd.
func openFDs(dir *os.File) map[int]bool {
	fds := map[int]bool{}
	names, _ := dir.Readdirnames(-1)
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil {
			fds[fd] = true
		}
	}
	return fds
}
