package scanner

import (
	"errors"
	"fmt"
)

// Base45 (RFC 9285) turns bytes into text from the 45 characters of QR
// alphanumeric mode, so a pass fills a QR code about as densely as byte mode
// would while keeping the text printable.

const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var base45Value [256]int8

func init() {
	for i := range base45Value {
		base45Value[i] = -1
	}
	for i := 0; i < len(base45Alphabet); i++ {
		base45Value[base45Alphabet[i]] = int8(i)
	}
}

var errBase45Length = errors.New("base45: length leaves a single character")

// base45Encode appends the Base45 encoding of src to dst.
func base45Encode(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := int(src[0])<<8 | int(src[1])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := int(src[0])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return dst
}

// base45DecodedLen returns the length of the bytes that n characters decode
// to, or -1 when no valid encoding has n characters.
func base45DecodedLen(n int) int {
	if n%3 == 1 {
		return -1
	}
	return n/3*2 + n%3/2
}

// base45Decode appends the bytes that src encodes to dst. It rejects
// characters outside the alphabet, a dangling single character, and groups
// whose value is too large for the bytes they stand for (RFC 9285 §4.2).
func base45Decode(dst []byte, src string) ([]byte, error) {
	if base45DecodedLen(len(src)) < 0 {
		return nil, errBase45Length
	}
	for i := 0; i < len(src); i += 3 {
		var v [3]int
		k := min(3, len(src)-i)
		for j := 0; j < k; j++ {
			d := base45Value[src[i+j]]
			if d < 0 {
				return nil, fmt.Errorf("base45: invalid character %q at %d", src[i+j], i+j)
			}
			v[j] = int(d)
		}
		if k == 3 {
			n := v[0] + v[1]*45 + v[2]*2025
			if n > 0xffff {
				return nil, fmt.Errorf("base45: group at %d out of range", i)
			}
			dst = append(dst, byte(n>>8), byte(n))
		} else {
			n := v[0] + v[1]*45
			if n > 0xff {
				return nil, fmt.Errorf("base45: group at %d out of range", i)
			}
			dst = append(dst, byte(n))
		}
	}
	return dst, nil
}
