package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/checkpointgate/checkpoint/internal/wait"
	"github.com/checkpointgate/checkpoint/scanner"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxLine    = 2048
	DefaultBaud       = 9600
	DefaultKeyGap     = time.Second
	DefaultMaxBackoff = 5 * time.Second
)

// minBackoff is the first wait before reopening a device that is gone;
// it doubles on every failure up to Config.MaxBackoff.
const minBackoff = 250 * time.Millisecond

// readSize is how many bytes one read asks for.
const readSize = 4096

// Config tunes a Reader. The zero value of every field means its
// documented default; fields that do not apply to a kind of reader are
// ignored.
type Config struct {
	// MaxLine is the longest payload, in bytes; 0 means DefaultMaxLine.
	// A longer line is dropped whole (ReasonOversize).
	MaxLine int

	// Baud is a serial reader's line speed; 0 means DefaultBaud. USB
	// CDC-ACM readers (/dev/ttyACM*) ignore it.
	Baud int

	// NoGrab leaves a keyboard-wedge reader ungrabbed. By default the
	// device is grabbed (EVIOCGRAB) so that what it types reaches only
	// this program, not a console or a desktop.
	NoGrab bool

	// KeyGap is the longest pause between two keys of one line that a
	// keyboard-wedge reader may make; after a longer one, the part of the
	// line before it is dropped (ReasonIncomplete). 0 means
	// DefaultKeyGap; a negative value, no limit.
	KeyGap time.Duration

	// MaxBackoff bounds the wait between attempts to reopen a device
	// that is gone; 0 means DefaultMaxBackoff. The first wait is 250 ms
	// and each failure doubles it.
	MaxBackoff time.Duration

	// Now is the clock for Read.At; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxLine == 0 {
		c.MaxLine = DefaultMaxLine
	}
	if c.MaxLine < 1 || c.MaxLine > 1<<20 {
		return c, fmt.Errorf("reader: line limit %d out of range", c.MaxLine)
	}
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.KeyGap == 0 {
		c.KeyGap = DefaultKeyGap
	}
	if c.KeyGap < 0 {
		c.KeyGap = 0
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < minBackoff {
		c.MaxBackoff = minBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Reason is why a line was dropped.
type Reason string

// The reasons a line is dropped.
const (
	ReasonOversize   Reason = "oversize"   // longer than Config.MaxLine
	ReasonBinary     Reason = "binary"     // a byte outside printable ASCII
	ReasonUnmapped   Reason = "unmapped"   // a key the key map cannot type, or one pressed with Ctrl, Alt or Meta held
	ReasonIncomplete Reason = "incomplete" // cut short: events lost, a pause longer than KeyGap, or the device gone mid-line
)

// Stats counts what a Reader has done. The counters only grow.
type Stats struct {
	Lines     uint64            // payloads returned by Next
	Dropped   map[Reason]uint64 // lines dropped, by reason
	Reopens   uint64            // successful opens of a device after the first
	Faults    uint64            // errors returned by Next (not counting the end of input or ctx)
	LastError string            // the last of those; never payload text
}

// Errors that Next returns.
var (
	// ErrUnplugged: the device went away (or its read failed); it is
	// reopened with backoff.
	ErrUnplugged = errors.New("reader gone")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("reader: closed")
	// ErrUnsupported: evdev and serial readers need Linux.
	ErrUnsupported = errors.New("reader: USB reader modules need Linux")
)

// Reader is a source of text payloads, one per line: a USB QR reader
// module, typing as a keyboard or writing to a serial port, or any stream
// of lines. Next and Close may be called from different goroutines, and
// Stats from any.
type Reader struct {
	name string
	cfg  Config
	open func() (io.ReadCloser, error) // opens the device; nil for a stream given once
	dec  decoder
	done chan struct{} // closed by Close
	once sync.Once

	mu      sync.Mutex // held by Next and Close
	src     io.Reader
	chunks  chan chunk    // what the pump goroutine read
	stop    chan struct{} // closed to stop the pump
	queue   []string      // lines decoded and not yet returned
	pending error         // an error to return once the queue is empty
	eof     bool
	opened  bool
	retryAt time.Time
	backoff time.Duration
	sleep   func(ctx context.Context, d time.Duration) error

	smu   sync.Mutex
	stats Stats
}

var _ scanner.Source = (*Reader)(nil)

// chunk is what one read returned.
type chunk struct {
	b   []byte
	err error
}

func newReader(name string, cfg Config, dec decoder, open func() (io.ReadCloser, error)) *Reader {
	r := &Reader{
		name:    name,
		cfg:     cfg,
		open:    open,
		dec:     dec,
		done:    make(chan struct{}),
		backoff: minBackoff,
		stats:   Stats{Dropped: map[Reason]uint64{}},
	}
	r.sleep = func(ctx context.Context, d time.Duration) error { return wait.Sleep(ctx, r.done, d, ErrClosed) }
	return r
}

// NewLines returns a Reader of the lines of r, such as os.Stdin: one
// payload per line ending in CR, LF or CRLF, or at the end of the input.
// Read.Name is name. Next returns io.EOF after the last line; Close closes
// r if it is an io.Closer. A Read blocked in r that Close cannot interrupt
// (r not a file or a pipe) keeps one goroutine until it returns.
func NewLines(r io.Reader, name string, cfg Config) (*Reader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newStream(r, name, cfg, &textDecoder{lineSplitter: lineSplitter{max: cfg.MaxLine}, endIsLineEnd: true}), nil
}

// newStream returns a Reader of r, decoded by dec, that ends with r.
func newStream(r io.Reader, name string, cfg Config, dec decoder) *Reader {
	rd := newReader(name, cfg, dec, nil)
	rd.start(r)
	return rd
}

// Next returns the next payload as Read.Text, with Read.Name the device
// or stream. Lines that are too long, hold bytes outside printable ASCII,
// or were cut short are dropped and counted (Stats), never returned.
//
// For a device it opens it on the first call and reopens it after a
// fault; a fault is returned as an error wrapping ErrUnplugged or the
// open's error, and later calls go on reading once the device is back.
// For NewLines it returns io.EOF at the end of the input (after a read
// error: the error, then io.EOF). It returns ctx.Err() when ctx is done
// and ErrClosed after Close.
func (r *Reader) Next(ctx context.Context) (scanner.Read, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if err := wait.Check(ctx, r.done, ErrClosed); err != nil {
			return scanner.Read{}, err
		}
		if len(r.queue) > 0 {
			text := r.queue[0]
			r.queue[0] = ""
			r.queue = r.queue[1:]
			r.updateStats(func(s *Stats) { s.Lines++ })
			return scanner.Read{Text: text, Name: r.name, At: r.cfg.Now()}, nil
		}
		if err := r.pending; err != nil {
			r.pending = nil
			return scanner.Read{}, err
		}
		if r.eof {
			return scanner.Read{}, io.EOF
		}
		if r.chunks == nil {
			if err := r.reopen(ctx); err != nil {
				return scanner.Read{}, err
			}
		}
		select {
		case <-ctx.Done():
			return scanner.Read{}, ctx.Err()
		case <-r.done:
			return scanner.Read{}, ErrClosed
		case c := <-r.chunks:
			r.consume(c)
		}
	}
}

// consume decodes what one read returned, and handles its error.
func (r *Reader) consume(c chunk) {
	out := sink{line: r.addLine, drop: r.dropLine}
	if len(c.b) > 0 {
		r.dec.write(c.b, out)
		r.backoff = minBackoff // the device works
	}
	if c.err == nil {
		return
	}
	r.dec.end(out, c.err == io.EOF)
	r.stopSource()
	switch {
	case r.open == nil && c.err == io.EOF:
		r.eof = true
	case r.open == nil:
		r.eof = true
		r.pending = r.fault(fmt.Errorf("reader: %s: %w", r.name, c.err))
	default:
		// A device's end of file (a tty hung up) is an unplug, not the
		// end of the source: the error must not read as io.EOF.
		cause := c.err
		if cause == io.EOF {
			cause = io.ErrUnexpectedEOF
		}
		r.scheduleRetry()
		r.pending = r.fault(fmt.Errorf("reader: %s: %w (%w)", r.name, ErrUnplugged, cause))
	}
}

func (r *Reader) addLine(b []byte) { r.queue = append(r.queue, string(b)) }

func (r *Reader) dropLine(why Reason) {
	if why == "" {
		return
	}
	r.updateStats(func(s *Stats) { s.Dropped[why]++ })
}

func (r *Reader) fault(err error) error {
	r.updateStats(func(s *Stats) {
		s.Faults++
		s.LastError = err.Error()
	})
	return err
}

// Close closes the device or stream. A Next blocked waiting returns
// ErrClosed. Close may be called more than once.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.done) })
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopSource()
}

// Stats returns a copy of the reader's counters.
func (r *Reader) Stats() Stats {
	r.smu.Lock()
	defer r.smu.Unlock()
	s := r.stats
	s.Dropped = make(map[Reason]uint64, len(r.stats.Dropped))
	for k, v := range r.stats.Dropped {
		s.Dropped[k] = v
	}
	return s
}

func (r *Reader) updateStats(f func(s *Stats)) {
	r.smu.Lock()
	f(&r.stats)
	r.smu.Unlock()
}

func (r *Reader) scheduleRetry() {
	r.retryAt = r.cfg.Now().Add(r.backoff)
	r.backoff = min(2*r.backoff, r.cfg.MaxBackoff)
}

// reopen waits out the backoff and opens the device.
func (r *Reader) reopen(ctx context.Context) error {
	if r.open == nil {
		r.eof = true
		return io.EOF
	}
	if !r.retryAt.IsZero() {
		if d := r.retryAt.Sub(r.cfg.Now()); d > 0 {
			if err := r.sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	f, err := r.open()
	if err != nil {
		r.scheduleRetry()
		return r.fault(fmt.Errorf("reader: open %s: %w", r.name, err))
	}
	r.retryAt = time.Time{}
	r.dec.reset()
	r.start(f)
	if r.opened {
		r.updateStats(func(s *Stats) { s.Reopens++ })
	}
	r.opened = true
	return nil
}

// start reads src in a goroutine of its own, so that Next can wait for
// its context as well.
func (r *Reader) start(src io.Reader) {
	r.src = src
	r.chunks = make(chan chunk)
	r.stop = make(chan struct{})
	go pump(src, r.chunks, r.stop)
}

// stopSource stops the pump and closes the source, if it can be closed.
func (r *Reader) stopSource() error {
	if r.chunks == nil {
		return nil
	}
	close(r.stop)
	r.chunks, r.stop = nil, nil
	src := r.src
	r.src = nil
	if c, ok := src.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("reader: close %s: %w", r.name, err)
		}
	}
	return nil
}

// pump reads src until an error, handing each read to out, until stop is
// closed.
func pump(src io.Reader, out chan<- chunk, stop <-chan struct{}) {
	buf := make([]byte, readSize)
	empty := 0
	for {
		n, err := src.Read(buf)
		if n == 0 && err == nil {
			if empty++; empty < 100 {
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
		c := chunk{b: append([]byte(nil), buf[:n]...), err: err}
		select {
		case out <- c:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}
