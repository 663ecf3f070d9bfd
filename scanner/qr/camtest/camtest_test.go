package camtest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr/camtest"
)

// TestDeterministic checks that the same Options give the same frames and
// texts, and that the frames have the documented sizes and hold passes.
func TestDeterministic(t *testing.T) {
	opt := camtest.Options{Seed: 3, PerClass: 2, Classes: []string{"perspective", "jpeg"}}
	a, err := camtest.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := camtest.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 4 || len(b) != 4 {
		t.Fatalf("got %d and %d cases, want 4", len(a), len(b))
	}
	for i := range a {
		if a[i].Text != b[i].Text || !bytes.Equal(a[i].Frame.Pix, b[i].Frame.Pix) {
			t.Errorf("case %d differs between runs", i)
		}
		if !strings.HasPrefix(a[i].Text, scanner.PassPrefix) {
			t.Errorf("case %d: text %.10q… is not a pass", i, a[i].Text)
		}
		want := camtest.Sizes[a[i].Index%len(camtest.Sizes)]
		if got := a[i].Frame.Rect.Size(); got != want {
			t.Errorf("case %d: frame %v, want %v", i, got, want)
		}
	}
	if a[0].Text == a[1].Text {
		t.Error("two cases hold the same pass")
	}
	c, err := camtest.Generate(camtest.Options{Seed: 4, PerClass: 1, Classes: []string{"perspective"}})
	if err != nil {
		t.Fatal(err)
	}
	if c[0].Text == a[0].Text {
		t.Error("another seed gave the same pass")
	}
}
