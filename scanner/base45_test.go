package scanner

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Every example given in RFC 9285.
var rfc9285 = []struct{ raw, enc string }{
	{"AB", "BB8"},              // §4.3
	{"Hello!!", "%69 VD92EX0"}, // §4.3
	{"base-45", "UJCLQE7W581"}, // §4.3
	{"ietf!", "QED8WEX0"},      // §4.4 (decoding example)
	{"", ""},                   // empty input
	{"\x00", "00"},             // a single zero byte
	{"\xff\xff", "FGW"},        // 65535, the largest group
	{"\xff", "U5"},             // 255, the largest pair
	{"\x00\x00", "000"},        // zero group
}

func TestBase45RFC9285(t *testing.T) {
	for _, c := range rfc9285 {
		if got := string(base45Encode(nil, []byte(c.raw))); got != c.enc {
			t.Errorf("encode %q = %q, want %q", c.raw, got, c.enc)
		}
		got, err := base45Decode(nil, c.enc)
		if err != nil || string(got) != c.raw {
			t.Errorf("decode %q = %q, %v; want %q", c.enc, got, err, c.raw)
		}
	}
}

func TestBase45Invalid(t *testing.T) {
	for _, s := range []string{
		"GGW",  // 65536: one more than two bytes hold
		"ZZZ",  // far too large
		"V5",   // 256 in a final pair
		"A",    // dangling single character
		"BB8A", // dangling after a group
		"bb8",  // lower case is not in the alphabet
		"BB\x00",
		"BB=",
	} {
		if got, err := base45Decode(nil, s); err == nil {
			t.Errorf("decode %q = %q, want error", s, got)
		}
	}
}

func TestBase45RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		enc := base45Encode(nil, b)
		if len(enc) != n/2*3+n%2*2 {
			t.Fatalf("len %d encodes to %d chars", n, len(enc))
		}
		if base45DecodedLen(len(enc)) != n {
			t.Fatalf("decoded len of %d chars = %d, want %d", len(enc), base45DecodedLen(len(enc)), n)
		}
		dec, err := base45Decode(nil, string(enc))
		if err != nil || !bytes.Equal(dec, b) {
			t.Fatalf("round trip of %x: %x, %v", b, dec, err)
		}
	}
}

func FuzzBase45(f *testing.F) {
	for _, c := range rfc9285 {
		f.Add(c.enc)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := base45Decode(nil, s)
		if err != nil {
			return
		}
		if got := string(base45Encode(nil, b)); got != s {
			t.Fatalf("decode(%q) = %x re-encodes to %q", s, b, got)
		}
	})
}
