package reader

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// An evdev device (/dev/input/eventN) reads as a stream of struct
// input_event from the kernel's linux/input.h:
//
//	struct input_event {
//		struct timeval time; // two C longs: seconds and microseconds
//		__u16 type;
//		__u16 code;
//		__s32 value;
//	};
//
// The timeval is two longs, so the struct is 24 bytes for a 64-bit process
// (arm64, amd64) and 16 bytes for a 32-bit one (armv7), also on a 64-bit
// kernel, which converts for 32-bit processes. The byte order is the
// machine's.

// Sizes of struct input_event.
const (
	eventSize32 = 16
	eventSize64 = 24
)

// nativeEventSize is the size of struct input_event for this process: two
// longs (the size of a pointer on Linux) and eight bytes.
const nativeEventSize = 2*int(unsafe.Sizeof(uintptr(0))) + 8

// Event types and codes used here (linux/input-event-codes.h).
const (
	evSyn = 0x00
	evKey = 0x01

	synDropped = 3 // the kernel's buffer overflowed: events were lost

	keyRelease = 0
	keyPress   = 1
	keyRepeat  = 2
)

// inputEvent is one decoded struct input_event.
type inputEvent struct {
	time  time.Duration // the event's timestamp, as a duration since the clock's epoch
	typ   uint16
	code  uint16
	value int32
}

// eventDecoder cuts a byte stream into input events of one layout. Bytes
// of an event split across reads wait for the rest.
type eventDecoder struct {
	size    int // eventSize32 or eventSize64
	pending []byte
}

func (d *eventDecoder) write(b []byte, f func(inputEvent)) {
	if len(d.pending) > 0 {
		n := min(d.size-len(d.pending), len(b))
		d.pending = append(d.pending, b[:n]...)
		b = b[n:]
		if len(d.pending) < d.size {
			return
		}
		f(d.decode(d.pending))
		d.pending = d.pending[:0]
	}
	for len(b) >= d.size {
		f(d.decode(b[:d.size]))
		b = b[d.size:]
	}
	d.pending = append(d.pending, b...)
}

// decode decodes one event from b, which holds exactly d.size bytes.
func (d *eventDecoder) decode(b []byte) inputEvent {
	var sec, usec int64
	if d.size == eventSize64 {
		sec = int64(binary.NativeEndian.Uint64(b[0:]))
		usec = int64(binary.NativeEndian.Uint64(b[8:]))
	} else {
		sec = int64(int32(binary.NativeEndian.Uint32(b[0:])))
		usec = int64(int32(binary.NativeEndian.Uint32(b[4:])))
	}
	t := d.size - 8
	return inputEvent{
		time:  time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
		typ:   binary.NativeEndian.Uint16(b[t:]),
		code:  binary.NativeEndian.Uint16(b[t+2:]),
		value: int32(binary.NativeEndian.Uint32(b[t+4:])),
	}
}

// Key codes of the modifiers and line ends (linux/input-event-codes.h).
const (
	keyEnter      = 28
	keyLeftCtrl   = 29
	keyLeftShift  = 42
	keyRightShift = 54
	keyLeftAlt    = 56
	keyKPEnter    = 96
	keyRightCtrl  = 97
	keyRightAlt   = 100
	keyLeftMeta   = 125
	keyRightMeta  = 126
)

// usKeys maps a key code to the character it types on a US keyboard
// layout, without and with Shift; 0 for a key that types nothing here.
// The keypad types its digits and symbols as if Num Lock were on.
var usKeys = buildKeyMap()

func buildKeyMap() (m [256][2]byte) {
	row := func(first int, plain, shifted string) {
		for i := range len(plain) {
			m[first+i] = [2]byte{plain[i], shifted[i]}
		}
	}
	row(2, "1234567890-=", "!@#$%^&*()_+")    // KEY_1 .. KEY_EQUAL
	row(16, "qwertyuiop[]", "QWERTYUIOP{}")   // KEY_Q .. KEY_RIGHTBRACE
	row(30, "asdfghjkl;'`", "ASDFGHJKL:\"~")  // KEY_A .. KEY_GRAVE
	row(43, "\\zxcvbnm,./", "|ZXCVBNM<>?")    // KEY_BACKSLASH .. KEY_SLASH
	row(55, "*", "*")                         // KEY_KPASTERISK
	row(57, " ", " ")                         // KEY_SPACE
	row(71, "789-456+1230.", "789-456+1230.") // KEY_KP7 .. KEY_KPDOT
	row(98, "/", "/")                         // KEY_KPSLASH
	return m
}

// keyDecoder turns a keyboard-wedge reader's key presses into lines: it
// follows Shift, types each key through the US key map, ends a line at
// Enter, and drops a line with a key it cannot type.
type keyDecoder struct {
	events eventDecoder
	lines  lineSplitter
	gap    time.Duration // a pause longer than this inside a line drops what came before it; 0: never

	shift, ctrl uint8 // held modifiers: a bit for the left key, one for the right
	alt, meta   uint8
	last        time.Duration // the time of the last key press in the current line
}

func newKeyDecoder(eventSize, maxLine int, gap time.Duration) *keyDecoder {
	return &keyDecoder{events: eventDecoder{size: eventSize}, lines: lineSplitter{max: maxLine}, gap: gap}
}

func (d *keyDecoder) write(b []byte, out sink) {
	d.events.write(b, func(e inputEvent) { d.event(e, out) })
}

func (d *keyDecoder) end(out sink, _ bool) {
	d.lines.abandon(ReasonIncomplete, out)
	d.events.pending = d.events.pending[:0]
	d.shift, d.ctrl, d.alt, d.meta = 0, 0, 0, 0
}

func (d *keyDecoder) reset() { d.end(sink{drop: func(Reason) {}}, false) }

func (d *keyDecoder) event(e inputEvent, out sink) {
	switch e.typ {
	case evSyn:
		if e.code == synDropped {
			// Events were lost: the line is not whole, and which keys
			// are held is not known.
			d.lines.spoil(ReasonIncomplete)
			d.shift, d.ctrl, d.alt, d.meta = 0, 0, 0, 0
			// The lost keys came just before: a pause is measured from
			// here, or the keys after the loss would start a line anew
			// when the line's first keys were among those lost.
			d.last = e.time
		}
		return
	case evKey:
	default:
		return
	}
	if modifier(e, &d.shift, keyLeftShift, keyRightShift) ||
		modifier(e, &d.ctrl, keyLeftCtrl, keyRightCtrl) ||
		modifier(e, &d.alt, keyLeftAlt, keyRightAlt) ||
		modifier(e, &d.meta, keyLeftMeta, keyRightMeta) {
		return
	}
	if e.value != keyPress {
		return // releases, and repeats of a key held down
	}
	if d.gap > 0 && d.lines.partial() && e.time-d.last > d.gap {
		d.lines.abandon(ReasonIncomplete, out)
	}
	d.last = e.time
	switch {
	case e.code == keyEnter || e.code == keyKPEnter:
		d.lines.endLine(out)
		return
	case d.ctrl|d.alt|d.meta != 0:
		d.lines.spoil(ReasonUnmapped)
		return
	}
	var c byte
	if e.code < uint16(len(usKeys)) {
		c = usKeys[e.code][min(d.shift, 1)]
	}
	if c == 0 {
		d.lines.spoil(ReasonUnmapped)
		return
	}
	d.lines.writeByte(c, out)
}

// modifier follows a modifier key pair in held (bit 0 the left key, bit 1
// the right), and reports whether e was one of them.
func modifier(e inputEvent, held *uint8, left, right uint16) bool {
	var bit uint8
	switch e.code {
	case left:
		bit = 1
	case right:
		bit = 2
	default:
		return false
	}
	switch e.value {
	case keyPress:
		*held |= bit
	case keyRelease:
		*held &^= bit
	}
	return true
}
