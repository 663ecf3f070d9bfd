package imagebound

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
)

// MaxScans bounds the scans of a JPEG (the start-of-scan markers
// image/jpeg comes to before the end of the image: not the bytes 0xff
// 0xda in a segment's payload, nor in what a file holds after the image,
// as a phone's motion photo holds its video): encoders write about ten,
// and a file of thousands, a few bytes each, would take hours.
const MaxScans = 100

// MaxCost is Cost for a 16-bit RGBA PNG (8 bytes a pixel, and the gray
// copy): the costliest image read at the largest size. Other images are
// read up to the memory it takes.
const MaxCost = 9

// JPEG markers: start of scan, the frame headers image/jpeg reads
// (baseline, extended sequential, progressive), and those without a
// length (TEM, RST0 to RST7, SOI).
const (
	markerSOS  = 0xda
	markerSOF0 = 0xc0
	markerSOF1 = 0xc1
	markerSOF2 = 0xc2
	markerTEM  = 0x01
	markerRST0 = 0xd0
	markerRST7 = 0xd7
	markerSOI  = 0xd8
	markerEOI  = 0xd9
)

// Check returns an error saying why the image data, of format ("png" or
// "jpeg") and header c, is not to be decoded when images up to maxSide
// pixels a side are: a JPEG of more than MaxScans scans, or an image
// whose decoding would take more memory than MaxCost bytes a pixel of an
// image of maxSide a side. It does not check the sides themselves.
func Check(format string, c image.Config, data []byte, maxSide int) error {
	if format == "jpeg" {
		if n := scans(data); n > MaxScans {
			return fmt.Errorf("a JPEG of %d scans, over %d", n, MaxScans)
		}
	}
	side := int64(maxSide)
	limit := MaxCost * side * side
	if need := Cost(format, c.ColorModel, data) * int64(c.Width) * int64(c.Height); need > limit {
		return fmt.Errorf("%dx%d would take %d bytes to decode, over %d", c.Width, c.Height, need, limit)
	}
	return nil
}

// Cost is the most memory, in bytes a pixel, that image/png or image/jpeg
// takes to decode an image of this format and colour model, with a gray
// copy: the decoded image (and the images it is converted through), for a
// progressive JPEG its coefficients (4 bytes a sample, for every
// component at full size at worst), and for an interlaced PNG its passes
// (an image each, together as large as the whole).
func Cost(format string, m color.Model, data []byte) int64 {
	switch format {
	case "jpeg":
		var n, comps int64 = 1, 1 // gray
		switch m {
		case color.YCbCrModel:
			n, comps = 3, 3
		case color.RGBAModel: // YCbCr, converted
			n, comps = 3+4+1, 3
		case color.CMYKModel: // YCbCr and black, converted
			n, comps = 3+1+4+1, 4
		}
		if progressive(data) {
			n += 4 * comps
		}
		return n
	case "png":
		// A transparent colour (tRNS, which DecodeConfig does not
		// read) makes a gray or RGB image NRGBA, or NRGBA64.
		var n int64 = 4
		if _, ok := m.(color.Palette); ok {
			n = 1
		} else if m == color.Gray16Model || m == color.RGBA64Model || m == color.NRGBA64Model {
			n = 8
		}
		// The interlace method, the last byte of IHDR, which
		// DecodeConfig read as the first chunk.
		if len(data) <= 28 || data[28] != 0 {
			n *= 2
		}
		return n + 1
	}
	return MaxCost
}

// progressive reports whether the JPEG b is progressive, by its frame
// header; a header it cannot find counts as progressive.
func progressive(b []byte) bool {
	for i := 2; i+4 <= len(b) && b[i] == 0xff; {
		switch m := b[i+1]; {
		case m == 0xff: // fill
			i++
		case m == markerSOF0 || m == markerSOF1:
			return false
		case m == markerSOF2:
			return true
		case m == markerTEM || m >= markerRST0 && m <= markerSOI: // no length
			i += 2
		case m == 0: // extraneous data, which image/jpeg reads on after
			i += 2
		default:
			i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
		}
	}
	return true
}

// scans counts the scans of the JPEG b as image/jpeg reads it: the
// start-of-scan markers up to the end of the image, passing over each
// segment's payload, and byte by byte over the coded data and any
// extraneous data, where a marker is 0xff and a byte other than 0x00.
func scans(b []byte) int {
	n := 0
	for i := 2; i+1 < len(b); {
		if b[i] != 0xff {
			i++
			continue
		}
		switch m := b[i+1]; {
		case m == 0xff: // fill
			i++
		case m == 0 || m >= markerRST0 && m <= markerRST7: // a stuffed byte, a restart
			i += 2
		case m == markerEOI:
			return n
		default:
			if m == markerSOS {
				n++
			}
			if i+4 > len(b) {
				return n
			}
			i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
		}
	}
	return n
}
