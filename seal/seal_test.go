package seal_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/checkpointgate/checkpoint/seal"
)

func newPair(t testing.TB, segSize int) (*seal.Sealer, *seal.Opener, *seal.PrivateKey) {
	t.Helper()
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.NewSealer(priv.Public(), seal.SealerOptions{SegmentSize: segSize})
	if err != nil {
		t.Fatal(err)
	}
	return s, seal.NewOpener(priv), priv
}

func TestRoundTrip(t *testing.T) {
	s, o, _ := newPair(t, 4)
	headers := map[string]uint64{}
	for seq := uint64(1); seq <= 40; seq++ {
		msg := bytes.Repeat([]byte{byte(seq)}, int(seq)) // lengths 1..40 cross the padding block
		box, seg, err := s.Seal(seq, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(seg.Header) != seal.HeaderSize {
			t.Fatalf("header %d bytes, want %d", len(seg.Header), seal.HeaderSize)
		}
		if over := len(box) - len(msg); over <= seal.TagSize || over > seal.MaxOverhead {
			t.Fatalf("seq %d: overhead %d bytes, want (%d, %d]", seq, over, seal.TagSize, seal.MaxOverhead)
		}
		if first, ok := headers[string(seg.Header)]; ok && first != seg.First {
			t.Fatalf("header reused with another first sequence")
		}
		headers[string(seg.Header)] = seg.First
		got, err := o.Open(seg.Header, seq, box)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("seq %d: got %x, want %x", seq, got, msg)
		}
	}
	if len(headers) != 10 {
		t.Fatalf("got %d segments for 40 events of segment size 4, want 10", len(headers))
	}
	// Empty message.
	box, seg, err := s.Seal(41, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := o.Open(seg.Header, 41, box); err != nil || len(got) != 0 {
		t.Fatalf("empty message: %q, %v", got, err)
	}
}

func TestNoNonceReuse(t *testing.T) {
	// Sealing the same sequence twice (a write that failed and is retried)
	// must start a new segment, so the key-nonce pair is never reused.
	s, o, _ := newPair(t, 100)
	b1, seg1, err := s.Seal(7, []byte("first attempt"))
	if err != nil {
		t.Fatal(err)
	}
	b2, seg2, err := s.Seal(7, []byte("second attempt"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(seg1.Header, seg2.Header) || seg2.First != 7 {
		t.Fatalf("retry of sequence 7 kept the segment (first %d)", seg2.First)
	}
	for _, c := range []struct {
		hdr []byte
		box []byte
		msg string
	}{{seg1.Header, b1, "first attempt"}, {seg2.Header, b2, "second attempt"}} {
		got, err := o.Open(c.hdr, 7, c.box)
		if err != nil || string(got) != c.msg {
			t.Fatalf("got %q, %v; want %q", got, err, c.msg)
		}
	}
	// Going backwards also starts a segment.
	_, seg3, err := s.Seal(3, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if seg3.First != 3 || bytes.Equal(seg3.Header, seg2.Header) {
		t.Fatal("sealing a lower sequence kept the segment")
	}
	s.Rotate()
	_, seg4, err := s.Seal(4, []byte("y"))
	if err != nil {
		t.Fatal(err)
	}
	if seg4.First != 4 || bytes.Equal(seg4.Header, seg3.Header) {
		t.Fatal("Rotate did not start a new segment")
	}
}

func TestOpenRejects(t *testing.T) {
	s, o, _ := newPair(t, 10)
	box, seg, err := s.Seal(5, []byte("hello gate"))
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := newPair(t, 10)
	_, seg2, err := s.Seal(6, []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	s.Rotate()
	_, seg3, err := s.Seal(7, []byte("third"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	cases := map[string]func() ([]byte, error){
		"wrong seq":       func() ([]byte, error) { return o.Open(seg.Header, 6, box) },
		"wrong header":    func() ([]byte, error) { return o.Open(seg3.Header, 5, box) },
		"wrong hub key":   func() ([]byte, error) { return other.Open(seg.Header, 5, box) },
		"flipped box":     func() ([]byte, error) { return o.Open(seg.Header, 5, flip(box, 3)) },
		"flipped tag":     func() ([]byte, error) { return o.Open(seg.Header, 5, flip(box, len(box)-1)) },
		"flipped header":  func() ([]byte, error) { return o.Open(flip(seg.Header, 40), 5, box) },
		"header version":  func() ([]byte, error) { return o.Open(flip(seg.Header, 0), 5, box) },
		"short header":    func() ([]byte, error) { return o.Open(seg.Header[:10], 5, box) },
		"long header":     func() ([]byte, error) { return o.Open(append(bytes.Clone(seg.Header), 0), 5, box) },
		"truncated box":   func() ([]byte, error) { return o.Open(seg.Header, 5, box[:len(box)-1]) },
		"empty box":       func() ([]byte, error) { return o.Open(seg.Header, 5, nil) },
		"extended box":    func() ([]byte, error) { return o.Open(seg.Header, 5, append(bytes.Clone(box), make([]byte, 16)...)) },
		"nil header":      func() ([]byte, error) { return o.Open(nil, 5, box) },
		"same segment ok": func() ([]byte, error) { return o.Open(seg2.Header, 5, box) }, // same header, right seq: opens
	}
	for name, f := range cases {
		got, err := f()
		if name == "same segment ok" {
			if err != nil || string(got) != "hello gate" {
				t.Errorf("%s: %q, %v", name, got, err)
			}
			continue
		}
		if !errors.Is(err, seal.ErrOpen) || got != nil {
			t.Errorf("%s: got %q, %v; want ErrOpen", name, got, err)
		}
	}
}

func TestKeysText(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pubText, _ := priv.Public().MarshalText()
	var pub seal.PublicKey
	if err := pub.UnmarshalText(pubText); err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("public key round trip: %v", err)
	}
	privText, _ := priv.MarshalText()
	var priv2 seal.PrivateKey
	if err := priv2.UnmarshalText(privText); err != nil || !priv2.Public().Equal(priv.Public()) || !bytes.Equal(priv2.Bytes(), priv.Bytes()) {
		t.Fatalf("private key round trip: %v", err)
	}
	if s := fmt.Sprint(priv); strings.Contains(s, string(privText[len("cpseal-priv-"):])) || !strings.Contains(s, "REDACTED") {
		t.Fatalf("private key printed as %q", s)
	}
	for _, bad := range []string{"", "cpseal-pub-", string(privText), "cpseal-pub-AAAA", "cpseal-pub-" + strings.Repeat("A", 43), "cpseal-pub-" + strings.Repeat("*", 43)} {
		if _, err := seal.ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
	if _, err := seal.ParsePrivateKey(pub.String()); err == nil {
		t.Error("ParsePrivateKey accepted a public key")
	}
	if _, err := seal.NewSealer(seal.PublicKey{}, seal.SealerOptions{}); err == nil {
		t.Error("NewSealer accepted a zero key")
	}
	// Points of small order: sealed to one, anyone could open the
	// segment keys.
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // order 4
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p-1
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p: 0
	} {
		var low seal.PublicKey
		if _, err := hex.Decode(low[:], []byte(h)); err != nil {
			t.Fatal(err)
		}
		if _, err := seal.ParsePublicKey(low.String()); err == nil {
			t.Errorf("ParsePublicKey accepted the low-order point %s", h)
		}
		if _, err := seal.NewSealer(low, seal.SealerOptions{}); err == nil {
			t.Errorf("NewSealer accepted the low-order point %s", h)
		}
	}
}

func TestMessageBound(t *testing.T) {
	s, _, _ := newPair(t, 0)
	if _, _, err := s.Seal(1, make([]byte, seal.MaxMessage+1)); err == nil {
		t.Fatal("sealed an oversized message")
	}
	if _, _, err := s.Seal(1, make([]byte, seal.MaxMessage)); err != nil {
		t.Fatal(err)
	}
}

func FuzzOpen(f *testing.F) {
	priv, err := seal.NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	// A fixed random source: fuzz workers are separate processes and must
	// agree on the seed corpus.
	s, err := seal.NewSealer(priv.Public(), seal.SealerOptions{Rand: bytes.NewReader(bytes.Repeat([]byte{3}, 1024))})
	if err != nil {
		f.Fatal(err)
	}
	box, seg, err := s.Seal(9, []byte("a sealed gate event"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seg.Header, uint64(9), box)
	f.Add(seg.Header, uint64(10), box)
	f.Add([]byte{1}, uint64(0), []byte{})
	o := seal.NewOpener(priv)
	f.Fuzz(func(t *testing.T, header []byte, seq uint64, b []byte) {
		msg, err := o.Open(header, seq, b)
		if err != nil {
			if !errors.Is(err, seal.ErrOpen) || msg != nil {
				t.Fatalf("error %v with message %q", err, msg)
			}
			return
		}
		if seq != 9 || !bytes.Equal(header, seg.Header) || !bytes.Equal(b, box) {
			t.Fatalf("opened a box that was not sealed: seq %d", seq)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	s, _, _ := newPair(b, 0)
	msg := make([]byte, 160)
	b.SetBytes(int64(len(msg)))
	var seq uint64
	for b.Loop() {
		seq++
		if _, _, err := s.Seal(seq, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s, o, _ := newPair(b, 0)
	msg := make([]byte, 160)
	box, seg, err := s.Seal(1, msg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := o.Open(seg.Header, 1, box); err != nil {
			b.Fatal(err)
		}
	}
}

// A private key given to a logger, or printed with %#v or as a value, is
// redacted too: the daemon logs through log/slog, whose handlers write a
// value out by its MarshalText.
func TestPrivateKeyRedacted(t *testing.T) {
	priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := priv.MarshalText()
	raw := [seal.KeySize]byte(priv.Bytes())
	secrets := []string{
		string(text[len("cpseal-priv-"):]),                        // the text form
		strings.Trim(fmt.Sprint(raw), "[]"),                       // %v of the bytes
		strings.TrimPrefix(fmt.Sprintf("%#v", raw), "[32]uint8{"), // %#v of the bytes
		fmt.Sprintf("%x", raw),                                    // %x of the bytes
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("hub key", "key", priv, "value", *priv)
	}
	fmt.Fprintf(&buf, "%v %+v %#v %v %+v %#v %d %x %s %q", priv, priv, priv, *priv, *priv, *priv, *priv, *priv, *priv, *priv)
	out := buf.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Fatalf("private key written out:\n%s", out)
		}
	}
	if n := strings.Count(out, "cpseal-priv-REDACTED"); n != 14 {
		t.Errorf("%d redacted keys, want 14:\n%s", n, out)
	}
}
