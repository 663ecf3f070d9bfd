package reader

import (
	"reflect"
	"testing"
	"time"
)

type outcome struct {
	lines []string
	drops map[Reason]int
}

func (o *outcome) sink() sink {
	o.drops = map[Reason]int{}
	return sink{line: func(b []byte) { o.lines = append(o.lines, string(b)) }, drop: func(r Reason) { o.drops[r]++ }}
}

// checkLines checks what every payload must be: not empty, at most max
// bytes, printable ASCII only.
func checkLines(t *testing.T, lines []string, max int) {
	t.Helper()
	for _, l := range lines {
		if l == "" || len(l) > max {
			t.Fatalf("line of %d bytes (limit %d)", len(l), max)
		}
		for i := range len(l) {
			if l[i] < 0x20 || l[i] > 0x7e {
				t.Fatalf("line holds byte %#x", l[i])
			}
		}
	}
}

// The splitter never panics, its lines are valid, and how the input is
// cut into reads changes nothing.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("CP1:ABC\r\nnext\n"), uint16(5), uint8(16))
	f.Add([]byte("a\r\r\n\n\rb\x00c\nddddddddddddddddddddddddd\r\n"), uint16(2), uint8(8))
	f.Add([]byte("\xff\xfe\r\n12345678\r"), uint16(9), uint8(8))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16, max uint8) {
		m := int(max%64) + 1
		for _, pipe := range []bool{true, false} {
			var whole, split outcome
			for i, o := range []*outcome{&whole, &split} {
				d := &textDecoder{lineSplitter: lineSplitter{max: m}, endIsLineEnd: pipe}
				out := o.sink()
				if i == 0 {
					d.write(b, out)
				} else {
					c := int(cut) % (len(b) + 1)
					d.write(b[:c], out)
					d.write(b[c:], out)
				}
				d.end(out, true)
				checkLines(t, o.lines, m)
			}
			if !reflect.DeepEqual(whole, split) {
				t.Fatalf("the cut changed the outcome: %+v and %+v", whole, split)
			}
			if n := whole.drops[ReasonIncomplete]; n > 1 || (pipe && n > 0) {
				t.Fatalf("%d incomplete lines (pipe %v)", n, pipe)
			}
		}
	})
}

// The key decoder never panics on any bytes, in either layout, its lines
// are valid, and how the bytes are cut into reads changes nothing.
func FuzzEvdev(f *testing.F) {
	for _, size := range []int{eventSize32, eventSize64} {
		k := &keyFixture{size: size}
		k.typeLine("C1:$ %")
		k.press(kF1)
		k.typeLine("x")
		f.Add(k.b.Bytes(), size == eventSize64, uint16(13))
	}
	f.Fuzz(func(t *testing.T, b []byte, big bool, cut uint16) {
		size := eventSize32
		if big {
			size = eventSize64
		}
		const max = 32
		var whole, split outcome
		for i, o := range []*outcome{&whole, &split} {
			d := newKeyDecoder(size, max, time.Second)
			out := o.sink()
			if i == 0 {
				d.write(b, out)
			} else {
				c := int(cut) % (len(b) + 1)
				d.write(b[:c], out)
				d.write(b[c:], out)
			}
			d.end(out, true)
			checkLines(t, o.lines, max)
		}
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("the cut changed the outcome: %+v and %+v", whole, split)
		}
	})
}
