package imageboundtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// jpegSegment appends a marker segment: the marker, its length, its body.
func jpegSegment(b []byte, marker byte, body ...byte) []byte {
	b = append(b, 0xff, marker)
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(body)))
	return append(b, body...)
}

// ProgressiveJPEG is a side×side progressive JPEG (SOF2) of comps
// components, none subsampled, all of one gray: a DC scan of every
// component, then acScans scans of the first component's AC band that
// end every block at once. Such scans cost a few bytes each, and each
// goes over the whole image.
func ProgressiveJPEG(side, comps, acScans int) []byte {
	b := []byte{0xff, 0xd8}
	b = jpegSegment(b, 0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)
	sof := []byte{8, byte(side >> 8), byte(side), byte(side >> 8), byte(side), byte(comps)}
	for i := range comps {
		sof = append(sof, byte(i+1), 0x11, 0)
	}
	b = jpegSegment(b, 0xc2, sof...)
	// One code each, "0": a DC difference of 0, and an end of band.
	counts := make([]byte, 16)
	counts[0] = 1
	dht := append(append([]byte{0x00}, counts...), 0x00)
	dht = append(append(append(dht, 0x10), counts...), 0x00)
	b = jpegSegment(b, 0xc4, dht...)
	blocks := (side + 7) / 8 * ((side + 7) / 8)
	sos := []byte{byte(comps)}
	for i := range comps {
		sos = append(sos, byte(i+1), 0)
	}
	b = jpegSegment(b, 0xda, append(sos, 0, 0, 0)...)
	b = append(b, make([]byte, (blocks*comps+7)/8)...)
	for range acScans {
		b = jpegSegment(b, 0xda, 1, 1, 0, 1, 63, 0)
		b = append(b, make([]byte, (blocks+7)/8)...)
	}
	return append(b, 0xff, 0xd9)
}

// pngChunk appends a PNG chunk.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// InterlacedPNG is a side×side Adam7-interlaced 16-bit RGBA PNG, all
// transparent.
func InterlacedPNG(side int) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(side))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(side))
	b = pngChunk(b, "IHDR", append(ihdr, 16, 6, 0, 0, 1))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for _, p := range [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
		w, h := (side-p[0]+p[2]-1)/p[2], (side-p[1]+p[3]-1)/p[3]
		if w == 0 || h == 0 {
			continue
		}
		zw.Write(make([]byte, h*(1+8*w))) // into memory: no error
	}
	zw.Close()
	b = pngChunk(b, "IDAT", z.Bytes())
	return pngChunk(b, "IEND", nil)
}
