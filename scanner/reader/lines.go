package reader

// lineSplitter cuts a byte stream into lines. A line ends at CR, LF or
// CRLF (one end, not two); an empty line is skipped. A line longer than
// max bytes, or holding a byte outside printable ASCII (0x20 to 0x7e), is
// dropped whole, with its reason, when its end comes: it is never cut into
// pieces that could pass for payloads. A dropped line's bytes are not kept.
//
// The zero value is not ready: set max.
type lineSplitter struct {
	max     int
	buf     []byte
	bad     Reason // why the line being read will be dropped; "" if it will not
	afterCR bool   // the last byte was CR: an LF now is the second half of CRLF
}

// sink receives what a splitter makes: a line (valid only during the call)
// or a dropped line's reason.
type sink struct {
	line func([]byte)
	drop func(Reason)
}

func (s *lineSplitter) write(b []byte, out sink) {
	for _, c := range b {
		s.writeByte(c, out)
	}
}

func (s *lineSplitter) writeByte(c byte, out sink) {
	if c == '\n' && s.afterCR {
		s.afterCR = false
		return
	}
	s.afterCR = c == '\r'
	switch {
	case c == '\r' || c == '\n':
		s.endLine(out)
	case s.bad != "":
		// draining a line that will be dropped
	case c < 0x20 || c > 0x7e:
		s.spoil(ReasonBinary)
	case len(s.buf) >= s.max:
		s.spoil(ReasonOversize)
	default:
		s.buf = append(s.buf, c)
	}
}

// spoil marks the line being read to be dropped for r, unless it already
// is, and forgets its bytes.
func (s *lineSplitter) spoil(r Reason) {
	if s.bad == "" {
		s.bad = r
	}
	clear(s.buf)
	s.buf = s.buf[:0]
}

// endLine ends the line being read: out gets it, or its reason to be
// dropped; an empty line is skipped.
func (s *lineSplitter) endLine(out sink) {
	switch {
	case s.bad != "":
		out.drop(s.bad)
	case len(s.buf) > 0:
		out.line(s.buf)
	}
	s.bad = ""
	clear(s.buf)
	s.buf = s.buf[:0]
}

// partial reports whether a line has begun and not ended.
func (s *lineSplitter) partial() bool { return len(s.buf) > 0 || s.bad != "" }

// abandon drops a line that has begun, for r, as when its source is gone.
func (s *lineSplitter) abandon(r Reason, out sink) {
	if s.partial() {
		out.drop(r)
	}
	s.bad = ""
	clear(s.buf)
	s.buf = s.buf[:0]
	s.afterCR = false
}

// decoder turns what a source reads into lines.
type decoder interface {
	// write decodes b, the next bytes read.
	write(b []byte, out sink)
	// end is the end of the input, clean (io.EOF) or not: a line begun
	// is ended or dropped.
	end(out sink, clean bool)
	// reset forgets everything, for a source opened again.
	reset()
}

// textDecoder reads lines of text, as a serial reader module or a pipe
// writes them.
type textDecoder struct {
	lineSplitter
	endIsLineEnd bool // at a clean end of the input a line begun is a line (a pipe); otherwise it is cut short (a device gone)
}

func (d *textDecoder) end(out sink, clean bool) {
	if d.endIsLineEnd && clean && d.partial() {
		d.endLine(out)
		return
	}
	d.abandon(ReasonIncomplete, out)
}

func (d *textDecoder) reset() { d.abandon("", sink{drop: func(Reason) {}}) }
