package scanner

import (
	"context"
	"image"
	"time"
)

// Read is one thing an input produced: a camera frame to decode, or the
// text a USB QR reader module typed or wrote.
type Read struct {
	Frame *image.Gray // a frame or image to decode; nil for a text payload
	Text  string      // a payload read by a reader module; empty for a frame
	Name  string      // where it came from, for logs: a file name, a device; never the payload
	At    time.Time   // when it was read (from the source's clock); zero if unknown
}

// Source is an input: a camera, a reader module, a folder of images.
//
// Next blocks until the next read and returns it. It returns io.EOF itself,
// not wrapped, when a finite source (a folder, a file) is exhausted, and
// only then; ctx.Err() when ctx is done, and other errors for faults the
// caller should log and count; a source that recovers by itself (a camera
// unplugged and reopened) keeps returning reads after such an error. A
// frame returned by Next belongs to the caller until the next call to
// Next, which may reuse its pixels.
type Source interface {
	Next(ctx context.Context) (Read, error)
	Close() error
}
