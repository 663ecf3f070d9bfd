package reader

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// keyFixture writes struct input_event records as the kernel does, in
// either layout, for a keyboard typing text.
type keyFixture struct {
	size int
	now  time.Duration
	b    bytes.Buffer
}

const (
	evMsc   = 0x04
	mscScan = 0x04
	synRep  = 0x00

	kF1        = 59
	kLeftCtrl  = 29
	kRightShft = 54
	kKP1       = 79
	kKP0       = 82
	kKPDot     = 83
	kKPEnter   = 96
)

func (f *keyFixture) event(typ, code uint16, value int32) {
	sec, usec := int64(f.now/time.Second), int64(f.now%time.Second/time.Microsecond)
	var rec []byte
	if f.size == eventSize64 {
		rec = binary.NativeEndian.AppendUint64(rec, uint64(sec))
		rec = binary.NativeEndian.AppendUint64(rec, uint64(usec))
	} else {
		rec = binary.NativeEndian.AppendUint32(rec, uint32(sec))
		rec = binary.NativeEndian.AppendUint32(rec, uint32(usec))
	}
	rec = binary.NativeEndian.AppendUint16(rec, typ)
	rec = binary.NativeEndian.AppendUint16(rec, code)
	rec = binary.NativeEndian.AppendUint32(rec, uint32(value))
	if len(rec) != f.size {
		panic("fixture layout")
	}
	f.b.Write(rec)
}

// press is a key going down and up, as a USB keyboard reports it: a scan
// code, the key, a report.
func (f *keyFixture) press(code uint16) {
	for _, v := range []int32{keyPress, keyRelease} {
		f.event(evMsc, mscScan, 0x70000+int32(code))
		f.event(evKey, code, v)
		f.event(evSyn, synRep, 0)
		f.now += 2 * time.Millisecond
	}
}

func (f *keyFixture) hold(code uint16, value int32) {
	f.event(evKey, code, value)
	f.event(evSyn, synRep, 0)
	f.now += time.Millisecond
}

// testKeys is the US layout, written out key by key from
// linux/input-event-codes.h (independently of the package's table).
var testKeys = map[rune]struct {
	code  uint16
	shift bool
}{
	'1': {2, false}, '2': {3, false}, '3': {4, false}, '4': {5, false}, '5': {6, false},
	'6': {7, false}, '7': {8, false}, '8': {9, false}, '9': {10, false}, '0': {11, false},
	'!': {2, true}, '@': {3, true}, '#': {4, true}, '$': {5, true}, '%': {6, true},
	'^': {7, true}, '&': {8, true}, '*': {9, true}, '(': {10, true}, ')': {11, true},
	'-': {12, false}, '_': {12, true}, '=': {13, false}, '+': {13, true},
	'[': {26, false}, '{': {26, true}, ']': {27, false}, '}': {27, true},
	';': {39, false}, ':': {39, true}, '\'': {40, false}, '"': {40, true},
	'`': {41, false}, '~': {41, true}, '\\': {43, false}, '|': {43, true},
	',': {51, false}, '<': {51, true}, '.': {52, false}, '>': {52, true},
	'/': {53, false}, '?': {53, true}, ' ': {57, false},
}

func init() {
	letters := map[rune]uint16{
		'a': 30, 'b': 48, 'c': 46, 'd': 32, 'e': 18, 'f': 33, 'g': 34, 'h': 35, 'i': 23,
		'j': 36, 'k': 37, 'l': 38, 'm': 50, 'n': 49, 'o': 24, 'p': 25, 'q': 16, 'r': 19,
		's': 31, 't': 20, 'u': 22, 'v': 47, 'w': 17, 'x': 45, 'y': 21, 'z': 44,
	}
	for c, code := range letters {
		testKeys[c] = struct {
			code  uint16
			shift bool
		}{code, false}
		testKeys[c-'a'+'A'] = struct {
			code  uint16
			shift bool
		}{code, true}
	}
}

// typeText types s as a reader module does, pressing and releasing Left
// Shift around each shifted character, and Enter after it.
func (f *keyFixture) typeLine(s string) {
	for _, c := range s {
		k, ok := testKeys[c]
		if !ok {
			panic("no key for " + string(c))
		}
		if k.shift {
			f.hold(keyLeftShift, keyPress)
		}
		f.press(k.code)
		if k.shift {
			f.hold(keyLeftShift, keyRelease)
		}
	}
	f.press(keyEnter)
}

const base45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// decodeKeys runs the key decoder over b, written in pieces of n bytes.
func decodeKeys(size, maxLine int, gap time.Duration, b []byte, n int) ([]string, map[Reason]int) {
	d := newKeyDecoder(size, maxLine, gap)
	var lines []string
	drops := map[Reason]int{}
	out := sink{line: func(l []byte) { lines = append(lines, string(l)) }, drop: func(r Reason) { drops[r]++ }}
	for len(b) > 0 {
		k := min(n, len(b))
		d.write(b[:k], out)
		b = b[k:]
	}
	d.end(out, true)
	return lines, drops
}

func TestNativeEventSize(t *testing.T) {
	want := eventSize32
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = eventSize64
	}
	if nativeEventSize != want {
		t.Errorf("nativeEventSize = %d, want %d", nativeEventSize, want)
	}
}

func TestKeysBothLayouts(t *testing.T) {
	lines := []string{"CP1:" + base45, "hello, World! [x] {y} <z> ~`|\\ _=;'\"?", "a"}
	for _, size := range []int{eventSize32, eventSize64} {
		f := &keyFixture{size: size, now: 1700000000 * time.Second}
		for _, l := range lines {
			f.typeLine(l)
		}
		// Whole, one byte at a time, and in pieces that split events.
		for _, n := range []int{len(f.b.Bytes()), 1, 7, size + 3} {
			got, drops := decodeKeys(size, DefaultMaxLine, time.Second, f.b.Bytes(), n)
			if !reflect.DeepEqual(got, lines) || len(drops) != 0 {
				t.Errorf("%d-byte events in %d-byte pieces: got %q (drops %v), want %q", size, n, got, drops, lines)
			}
		}
		// The other layout's bytes do not read as these lines.
		other := eventSize64 + eventSize32 - size
		if got, _ := decodeKeys(other, DefaultMaxLine, time.Second, f.b.Bytes(), 64); reflect.DeepEqual(got, lines) {
			t.Errorf("%d-byte events decoded as %d-byte ones", size, other)
		}
	}
}

func TestKeysThroughAPipe(t *testing.T) {
	for _, size := range []int{eventSize32, eventSize64} {
		f := &keyFixture{size: size}
		f.typeLine("CP1:NCF%RN1*8")
		f.typeLine("CP1:X")
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			b := f.b.Bytes()
			for len(b) > 0 { // in pieces that split events
				n := min(50, len(b))
				pw.Write(b[:n])
				b = b[n:]
			}
			pw.Close()
		}()
		r := newStream(pr, "/dev/input/event3", defaults(t, Config{}), newKeyDecoder(size, DefaultMaxLine, time.Second))
		got, drops, err := readAll(t, r)
		if err != io.EOF || !reflect.DeepEqual(got, []string{"CP1:NCF%RN1*8", "CP1:X"}) || len(drops) != 0 {
			t.Errorf("%d-byte events: %q, %v, drops %v", size, got, err, drops)
		}
		r.Close()
	}
}

func TestKeys(t *testing.T) {
	type fix = func(f *keyFixture)
	for _, c := range []struct {
		name  string
		gap   time.Duration
		max   int
		typ   fix
		want  []string
		drops map[Reason]int
	}{
		{name: "right shift held over keys", typ: func(f *keyFixture) {
			f.hold(kRightShft, keyPress)
			f.press(30)
			f.press(48)
			f.press(5) // $
			f.hold(kRightShft, keyRelease)
			f.press(30)
			f.press(keyEnter)
		}, want: []string{"AB$a"}},
		{name: "both shifts, one released", typ: func(f *keyFixture) {
			f.hold(keyLeftShift, keyPress)
			f.hold(kRightShft, keyPress)
			f.hold(keyLeftShift, keyRelease)
			f.press(30)
			f.hold(kRightShft, keyRelease)
			f.press(30)
			f.press(keyEnter)
		}, want: []string{"Aa"}},
		{name: "keypad", typ: func(f *keyFixture) {
			f.press(kKP1)
			f.press(kKP0)
			f.press(kKPDot)
			f.press(kKPEnter)
		}, want: []string{"10."}},
		{name: "autorepeat ignored", typ: func(f *keyFixture) {
			f.hold(30, keyPress)
			f.hold(30, keyRepeat)
			f.hold(30, keyRelease)
			f.press(keyEnter)
		}, want: []string{"a"}},
		{name: "unmapped key", typ: func(f *keyFixture) {
			f.press(30)
			f.press(kF1)
			f.press(30)
			f.press(keyEnter)
			f.typeLine("OK")
		}, want: []string{"OK"}, drops: map[Reason]int{ReasonUnmapped: 1}},
		{name: "ctrl held", typ: func(f *keyFixture) {
			f.hold(kLeftCtrl, keyPress)
			f.press(46) // Ctrl+C
			f.hold(kLeftCtrl, keyRelease)
			f.press(keyEnter)
			f.typeLine("OK")
		}, want: []string{"OK"}, drops: map[Reason]int{ReasonUnmapped: 1}},
		{name: "events lost", typ: func(f *keyFixture) {
			f.hold(keyLeftShift, keyPress)
			f.press(30)
			f.event(evSyn, synDropped, 0) // and the shift release was lost
			f.press(30)
			f.press(keyEnter)
			f.typeLine("ok")
		}, want: []string{"ok"}, drops: map[Reason]int{ReasonIncomplete: 1}},
		{name: "pause inside a line", gap: time.Second, typ: func(f *keyFixture) {
			f.press(30)
			f.press(30)
			f.now += 2 * time.Second
			f.typeLine("CP1:A")
		}, want: []string{"CP1:A"}, drops: map[Reason]int{ReasonIncomplete: 1}},
		{name: "pause between lines", gap: time.Second, typ: func(f *keyFixture) {
			f.typeLine("A")
			f.now += time.Hour
			f.typeLine("B")
		}, want: []string{"A", "B"}},
		{name: "no gap limit", gap: 0, typ: func(f *keyFixture) {
			f.press(30)
			f.now += time.Hour
			f.typeLine("B")
		}, want: []string{"aB"}},
		{name: "oversize", max: 4, typ: func(f *keyFixture) {
			f.typeLine("ABCDE")
			f.typeLine("ABCD")
		}, want: []string{"ABCD"}, drops: map[Reason]int{ReasonOversize: 1}},
		{name: "cut off at the end", typ: func(f *keyFixture) {
			f.typeLine("A")
			f.press(30)
			f.event(evKey, 30, keyPress)
			f.b.Truncate(f.b.Len() - 3) // half an event
		}, want: []string{"A"}, drops: map[Reason]int{ReasonIncomplete: 1}},
		{name: "other events", typ: func(f *keyFixture) {
			f.event(0x11, 0, 1) // EV_LED
			f.event(0x02, 0, 5) // EV_REL
			f.typeLine("A")
		}, want: []string{"A"}},
	} {
		for _, size := range []int{eventSize32, eventSize64} {
			f := &keyFixture{size: size}
			c.typ(f)
			max := c.max
			if max == 0 {
				max = DefaultMaxLine
			}
			got, drops := decodeKeys(size, max, c.gap, f.b.Bytes(), 5)
			if c.drops == nil {
				c.drops = map[Reason]int{}
			}
			if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(drops, c.drops) {
				t.Errorf("%s (%d-byte events): got %q, drops %v; want %q, %v", c.name, size, got, drops, c.want, c.drops)
			}
		}
	}
}

func TestKeyMapCoversBase45(t *testing.T) {
	for _, c := range base45 {
		k := testKeys[c]
		shift := 0
		if k.shift {
			shift = 1
		}
		if got := usKeys[k.code][shift]; got != byte(c) {
			t.Errorf("key %d shift %v types %q, want %q", k.code, k.shift, got, c)
		}
	}
	for c, k := range testKeys {
		shift := 0
		if k.shift {
			shift = 1
		}
		if got := usKeys[k.code][shift]; got != byte(c) {
			t.Errorf("key %d shift %v types %q, want %q", k.code, k.shift, got, c)
		}
	}
}

func defaults(t *testing.T, c Config) Config {
	t.Helper()
	c, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The kernel's evdev queue overflowed while the daemon was not reading: the
// first keys of a code typed after a quiet spell are lost, and SYN_DROPPED
// comes before the rest. The rest is not a payload; with the default
// KeyGap, the quiet spell before the code must not turn it into one.
func TestLostKeysAfterAQuietSpell(t *testing.T) {
	for _, size := range []int{eventSize32, eventSize64} {
		f := &keyFixture{size: size}
		f.typeLine("CP1:FIRST")
		f.now += 5 * time.Second      // the next code comes a few seconds later
		f.event(evSyn, synDropped, 0) // its first keys were lost
		f.typeLine("TAIL")            // what is left of it, then Enter
		got, drops := decodeKeys(size, DefaultMaxLine, DefaultKeyGap, f.b.Bytes(), 7)
		want := []string{"CP1:FIRST"}
		if !reflect.DeepEqual(got, want) || drops[ReasonIncomplete] != 1 {
			t.Errorf("%d-byte events: got %q, drops %v; want %q and one incomplete line", size, got, drops, want)
		}
	}
}
