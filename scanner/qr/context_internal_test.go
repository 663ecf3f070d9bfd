package qr

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// doneAfter is a context whose Err is nil for its first n calls and
// context.Canceled from then on.
type doneAfter struct {
	context.Context
	n atomic.Int32
}

func (c *doneAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// tried counts the strategies that ran on d's last frame size.
func tried(d *Decoder) int {
	n := 0
	for _, c := range d.cost {
		if c > 0 {
			n++
		}
	}
	return n
}

// TestDecodeContextGivesUp checks that DecodeContext starts no strategy
// once its context is done: a done context reads nothing, not even a
// clean code, and one that ends part way leaves the rest of the
// strategies untried; both return the context's error.
func TestDecodeContextGivesUp(t *testing.T) {
	img, err := Encode("HC1:GIVE-UP", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := NewDecoder()
	if r, err := d.DecodeContext(ctx, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("done context: got %q, %v; want context.Canceled", r.Text, err)
	}
	if n := tried(d); n != 0 {
		t.Errorf("done context: %d strategies ran, want none", n)
	}
	if r, err := d.DecodeContext(context.Background(), img); err != nil || r.Text != "HC1:GIVE-UP" {
		t.Fatalf("after a given-up call: got %q, %v", r.Text, err)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	noise := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	all := NewDecoder()
	if _, err := all.Decode(noise); !errors.Is(err, ErrNotFound) {
		t.Fatalf("noise: %v, want ErrNotFound", err)
	}
	part := NewDecoder()
	c := &doneAfter{Context: context.Background()}
	c.n.Store(4)
	if _, err := part.DecodeContext(c, noise); !errors.Is(err, context.Canceled) {
		t.Fatalf("context ending part way: %v, want context.Canceled", err)
	}
	if n, want := tried(part), tried(all); n == 0 || n >= want {
		t.Errorf("context ending part way: %d strategies ran, want some but fewer than all %d", n, want)
	}
}
