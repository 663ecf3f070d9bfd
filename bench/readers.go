package main

/*
#cgo pkg-config: zbar zxing
#cgo CXXFLAGS: -std=c++17 -O2
#include <stdlib.h>
#include <string.h>
#include <zbar.h>
#include "shim.h"

static zbar_image_scanner_t *zbar_new(void) {
	zbar_image_scanner_t *s = zbar_image_scanner_create();
	zbar_image_scanner_set_config(s, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	return s;
}

// zbar_read scans a Y800 plane (rows back to back) and copies the first
// QR symbol's data to out. It returns the length, or -1 when none.
static int zbar_read(zbar_image_scanner_t *s, const unsigned char *pix, int w, int h, char *out, int outlen) {
	zbar_image_t *img = zbar_image_create();
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, w, h);
	zbar_image_set_data(img, pix, (unsigned long)w * h, NULL);
	int n = zbar_scan_image(s, img);
	int ret = -1;
	if (n > 0) {
		const zbar_symbol_t *sym = zbar_image_first_symbol(img);
		for (; sym; sym = zbar_symbol_next(sym)) {
			if (zbar_symbol_get_type(sym) != ZBAR_QRCODE) continue;
			unsigned int len = zbar_symbol_get_data_length(sym);
			if ((int)len >= outlen) { ret = -2; break; }
			memcpy(out, zbar_symbol_get_data(sym), len);
			ret = (int)len;
			break;
		}
	}
	zbar_image_destroy(img);
	return ret;
}
*/
import "C"

import (
	"image"
	"unsafe"

	"github.com/checkpointgate/checkpoint/scanner/qr"
)

// A reader decodes one frame and reports the text and whether it found one.
type reader interface {
	Name() string
	Read(img *image.Gray) (string, bool)
	Close()
}

const maxText = 8192

// compact returns img's pixels with rows back to back.
func compact(img *image.Gray) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if img.Stride == w {
		return img.Pix[:w*h]
	}
	b := make([]byte, w*h)
	for y := range h {
		copy(b[y*w:], img.Pix[y*img.Stride:y*img.Stride+w])
	}
	return b
}

type zbarReader struct {
	s   *C.zbar_image_scanner_t
	pix *C.uchar
	n   int
	out *C.char
}

func newZbar() *zbarReader {
	return &zbarReader{s: C.zbar_new(), out: (*C.char)(C.malloc(maxText))}
}

func (z *zbarReader) Name() string { return "zbar" }

// cbuf copies the plane into C memory once per frame outside the timing;
// see main, which calls prepare before starting the clock.
func (z *zbarReader) prepare(img *image.Gray) {
	pix := compact(img)
	if z.n < len(pix) {
		if z.pix != nil {
			C.free(unsafe.Pointer(z.pix))
		}
		z.pix = (*C.uchar)(C.malloc(C.size_t(len(pix))))
		z.n = len(pix)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(z.pix)), len(pix)), pix)
}

func (z *zbarReader) Read(img *image.Gray) (string, bool) {
	n := C.zbar_read(z.s, z.pix, C.int(img.Rect.Dx()), C.int(img.Rect.Dy()), z.out, maxText)
	if n < 0 {
		return "", false
	}
	return C.GoStringN(z.out, n), true
}

func (z *zbarReader) Close() {
	C.zbar_image_scanner_destroy(z.s)
	C.free(unsafe.Pointer(z.out))
	if z.pix != nil {
		C.free(unsafe.Pointer(z.pix))
	}
}

type zxingReader struct {
	pix *C.uchar
	n   int
	out *C.char
}

func newZxing() *zxingReader { return &zxingReader{out: (*C.char)(C.malloc(maxText))} }

func (z *zxingReader) Name() string { return "zxing-cpp" }

func (z *zxingReader) prepare(img *image.Gray) {
	pix := compact(img)
	if z.n < len(pix) {
		if z.pix != nil {
			C.free(unsafe.Pointer(z.pix))
		}
		z.pix = (*C.uchar)(C.malloc(C.size_t(len(pix))))
		z.n = len(pix)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(z.pix)), len(pix)), pix)
}

func (z *zxingReader) Read(img *image.Gray) (string, bool) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	n := C.zxing_read_gray(z.pix, C.int(w), C.int(h), C.int(w), z.out, maxText)
	if n < 0 {
		return "", false
	}
	return C.GoStringN(z.out, n), true
}

func (z *zxingReader) Close() {
	C.free(unsafe.Pointer(z.out))
	if z.pix != nil {
		C.free(unsafe.Pointer(z.pix))
	}
}

// ours is this project's decoder, one Decoder for the whole run as a
// camera would keep it.
type ours struct{ d *qr.Decoder }

func (o *ours) Name() string        { return "checkpoint" }
func (o *ours) prepare(*image.Gray) {}
func (o *ours) Close()              {}

func (o *ours) Read(img *image.Gray) (string, bool) {
	r, err := o.d.Decode(img)
	if err != nil {
		return "", false
	}
	return r.Text, true
}
