// Package camera captures frames from a V4L2 camera (a USB webcam on a
// gate) over github.com/blackjack/webcam, as a scanner.Source that hands
// on the luma of the newest frame as an *image.Gray for the QR decoder.
//
// It is Linux only; elsewhere New returns ErrUnsupported.
//
// # Formats
//
// The camera is asked for Config.Width × Config.Height (640×480) at
// Config.FPS (30), or the nearest size it offers, in the first of these
// formats it offers at that size (Config.Format forces one):
//
//   - YUYV: the luma is every second byte; copyFrame copies just those
//     bytes into a gray image that is reused from frame to frame.
//   - GREY: the frame is the luma; it is copied as is.
//   - MJPEG: the compressed frame is copied, then decoded with image/jpeg,
//     and the Y plane of the *image.YCbCr is the frame. A frame without
//     Huffman tables (usual for UVC cameras) gets the standard ones of JPEG
//     Annex K first.
//
// No frame goes through image.Image or a colour conversion. A frame whose
// size is not the one negotiated (too short, a few bytes off, another
// size) or a JPEG that does not decode is dropped and counted (Health.Bad),
// never handed on.
//
// # Buffers
//
// The driver fills Config.Buffers (2 to 4, default 3) memory-mapped
// buffers. The library's ReadFrame gives a buffer back to the driver
// before the caller has read it, so the driver may overwrite it; it is
// never used. Each frame is taken with GetFrame, its bytes copied, and the
// buffer given back with ReleaseFrame before the copy is used: a buffer is
// never held across calls to Next, and each one dequeued is given back
// exactly once.
//
// # Newest frame
//
// While the decoder works on one frame, the driver fills the other
// buffers. Next then dequeues every frame that is ready (polling with a
// zero timeout), gives back all but the newest unread, and copies only the
// newest (Health.Stale counts the others), so the decoder always sees what
// is in front of the camera now, not a frame from a moment ago.
//
// # Timeouts and stalls
//
// A wait for a frame lasts one second (the library counts in whole
// seconds); each that ends with no frame is counted (Health.Timeouts).
// After Config.RestartAfter (3 s) without a usable frame, streaming is
// stopped and started again and Next returns an error wrapping ErrStalled;
// after two restarts in a row that bring nothing, the device is closed and
// reopened.
//
// # Unplugging
//
// A camera unplugged while streaming makes poll report it ready and the
// dequeue fail with ENODEV. The camera then closes the device, returns an
// error wrapping ErrUnplugged, and reopens it on later calls to Next,
// waiting 250 ms before the first attempt and twice as long after each
// failure, up to Config.MaxBackoff (5 s); each failed attempt is returned
// as an error, so the daemon logs it and keeps running. Once a link in
// /dev/v4l/by-id/ to the device is known, reopening uses it: after a
// replug the camera may come back as another /dev/videoN.
//
// # Health
//
// Health returns the state (idle, streaming, reopening, closed), the device
// and mode, counters of frames, stale and bad frames, timeouts, restarts,
// unplugs and reopens, and the last error, for the daemon's health report.
// It may be called from any goroutine.
//
// # Testing
//
// The loop is written against a small device interface (start, wait, get,
// release, stop, close, and an open function) that the webcam library
// implements on Linux and that the tests implement with a fake: it times
// out, fails, unplugs, delivers garbage and several frames at once, and
// checks that every buffer is given back once. A test with a real camera
// runs with the v4l2device build tag (see device_test.go).
package camera
