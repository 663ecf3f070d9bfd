// Package imagebound bounds, from its header, what decoding a PNG or JPEG
// file with the standard library takes, before any pixel is decoded: the
// folder input and qr.DecodeFile share it. The header's size in pixels is
// not enough: a progressive JPEG keeps 4 bytes a sample of coefficients
// besides its pixels, an interlaced PNG decodes each pass as an image of
// its own, and each scan of a JPEG goes over the whole image while it may
// take only a few bytes.
package imagebound
