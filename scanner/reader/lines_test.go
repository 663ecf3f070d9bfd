package reader

import (
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// chunks is an io.Reader that returns each of its strings from one Read.
type chunks struct {
	parts []string
	err   error // after the parts; io.EOF if nil
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// readAll reads r to its end and returns the payloads, the drops, and the
// error that ended it (io.EOF at a clean end).
func readAll(t *testing.T, r *Reader) ([]string, map[Reason]uint64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for {
		rd, err := r.Next(ctx)
		if err != nil {
			return got, r.Stats().Dropped, err
		}
		if rd.Frame != nil || rd.Name == "" {
			t.Fatalf("read %+v", rd)
		}
		got = append(got, rd.Text)
	}
}

func TestLines(t *testing.T) {
	long := strings.Repeat("X", DefaultMaxLine)
	for _, c := range []struct {
		name  string
		parts []string
		want  []string
		drops map[Reason]uint64
	}{
		{"ends", []string{"a\r\nb\nc\rd"}, []string{"a", "b", "c", "d"}, nil},
		{"crlf split across reads", []string{"a\r", "\nb\r", "\n"}, []string{"a", "b"}, nil},
		{"line split across reads", []string{"CP1:AB", "CD", "EF\r\nNEXT\n"}, []string{"CP1:ABCDEF", "NEXT"}, nil},
		{"empty lines skipped", []string{"\n\n\r\n\r\ra\n\n"}, []string{"a"}, nil},
		{"lf cr is two ends", []string{"a\n\rb\n\r"}, []string{"a", "b"}, nil},
		{"base45 alphabet", []string{"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:\r\n"}, []string{"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"}, nil},
		{"longest line", []string{long + "\n"}, []string{long}, nil},
		{"oversize", []string{long + "Y\nok\n"}, []string{"ok"}, map[Reason]uint64{ReasonOversize: 1}},
		{"oversize across reads", []string{long[:1000], long[1000:], "YYYY", "YYY\r", "\nok\r\n"}, []string{"ok"}, map[Reason]uint64{ReasonOversize: 1}},
		{"nul", []string{"ab\x00c\nok\n"}, []string{"ok"}, map[Reason]uint64{ReasonBinary: 1}},
		{"utf-8", []string{"caf\xc3\xa9\nok\n"}, []string{"ok"}, map[Reason]uint64{ReasonBinary: 1}},
		{"tab and del", []string{"a\tb\nc\x7f\nok"}, []string{"ok"}, map[Reason]uint64{ReasonBinary: 2}},
		{"binary then long", []string{"\x01" + long + long + "\nok\n"}, []string{"ok"}, map[Reason]uint64{ReasonBinary: 1}},
		{"last line without an end", []string{"a\nlast"}, []string{"a", "last"}, nil},
		{"last line oversize", []string{long + "Z"}, nil, map[Reason]uint64{ReasonOversize: 1}},
		{"nothing", nil, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewLines(&chunks{parts: append([]string(nil), c.parts...)}, "stdin", Config{})
			if err != nil {
				t.Fatal(err)
			}
			got, drops, err := readAll(t, r)
			if err != io.EOF {
				t.Errorf("ended with %v, want io.EOF", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("lines %q, want %q", got, c.want)
			}
			if c.drops == nil {
				c.drops = map[Reason]uint64{}
			}
			if !reflect.DeepEqual(drops, c.drops) {
				t.Errorf("drops %v, want %v", drops, c.drops)
			}
			if s := r.Stats(); s.Lines != uint64(len(c.want)) {
				t.Errorf("stats %+v", s)
			}
			// After the end, the end again.
			if _, err := r.Next(context.Background()); err != io.EOF {
				t.Errorf("Next after the end: %v", err)
			}
		})
	}
}

func TestLinesReadError(t *testing.T) {
	boom := errors.New("boom")
	r, err := NewLines(&chunks{parts: []string{"a\nb\npart"}, err: boom}, "pipe", Config{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := readAll(t, r)
	if !reflect.DeepEqual(got, []string{"a", "b"}) || !errors.Is(err, boom) {
		t.Errorf("got %q, %v; want a, b and the read error", got, err)
	}
	if _, err := r.Next(context.Background()); err != io.EOF {
		t.Errorf("after the error: %v, want io.EOF", err)
	}
	s := r.Stats()
	if s.Faults != 1 || !strings.Contains(s.LastError, "boom") || s.Dropped[ReasonIncomplete] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestLinesMaxLine(t *testing.T) {
	r, err := NewLines(strings.NewReader("12345\n123456\n"), "x", Config{MaxLine: 5})
	if err != nil {
		t.Fatal(err)
	}
	got, drops, _ := readAll(t, r)
	if !reflect.DeepEqual(got, []string{"12345"}) || drops[ReasonOversize] != 1 {
		t.Errorf("got %q, drops %v", got, drops)
	}
	if _, err := NewLines(strings.NewReader(""), "x", Config{MaxLine: -1}); err == nil {
		t.Error("a negative line limit was accepted")
	}
}

// A pipe, as stdin is: lines written in pieces; Next waits for them, stops
// for its context, and Close interrupts it.
func TestLinesPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	r, err := NewLines(pr, "stdin", Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with nothing to read: %v, want the context's error", err)
	}
	go func() {
		pw.Write([]byte("CP1:6BF"))
		time.Sleep(5 * time.Millisecond)
		pw.Write([]byte("OXN%TS3DH\r"))
		time.Sleep(5 * time.Millisecond)
		pw.Write([]byte("\nsecond\n"))
	}()
	for _, want := range []string{"CP1:6BFOXN%TS3DH", "second"} {
		rd, err := r.Next(context.Background())
		if err != nil || rd.Text != want || rd.Name != "stdin" || rd.At.IsZero() {
			t.Fatalf("Next = %+v, %v; want %q", rd, err, want)
		}
	}
	errc := make(chan error)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Next during Close: %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestStatsIsACopy(t *testing.T) {
	r, _ := NewLines(strings.NewReader("\x00\n"), "x", Config{})
	readAll(t, r)
	s := r.Stats()
	s.Dropped[ReasonBinary] = 99
	if r.Stats().Dropped[ReasonBinary] != 1 {
		t.Error("Stats shares its map")
	}
}
