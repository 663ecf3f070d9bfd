package output

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/internal/privacytest"
	"github.com/checkpointgate/checkpoint/internal/syncbuf"
	"github.com/checkpointgate/checkpoint/scanner"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func outcome(allow bool) *gate.Outcome {
	d := scanner.Decision{Allow: allow, Reason: scanner.ReasonOK, Screen: scanner.ScreenGreen,
		Pass: &scanner.Pass{ID: []byte("SECRET-PASS-ID"), Household: []byte("SECRET-HOUSE"), Holder: "SECRET HOLDER"}}
	if !allow {
		d.Reason, d.Screen = scanner.ReasonExpired, scanner.ScreenRed
	}
	return &gate.Outcome{Seq: 7, Input: "cam0", Site: "north", Direction: scanner.Exit, Decision: d, Logged: true,
		At: scanner.Moment{Wall: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), Trusted: true}}
}

func level(p *gpiotest.Pin) gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.L
}

func TestRelayPulse(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		pin := &gpiotest.Pin{N: "GPIO17"}
		r, err := NewRelay(pin, activeLow, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		idle := gpio.Level(activeLow)
		if level(pin) != idle {
			t.Fatalf("activeLow=%v: not idle at start", activeLow)
		}
		r.Act(context.Background(), outcome(false))
		if level(pin) != idle {
			t.Fatalf("activeLow=%v: a denial moved the relay", activeLow)
		}
		r.Act(context.Background(), outcome(true))
		if level(pin) == idle {
			t.Fatalf("activeLow=%v: an allow did not pulse", activeLow)
		}
		deadline := time.Now().Add(5 * time.Second)
		for level(pin) != idle && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if level(pin) != idle {
			t.Fatalf("activeLow=%v: pulse never ended", activeLow)
		}
		r.Close()
	}
}

// livePin records how long the pin was last held at its active (high)
// level.
type livePin struct {
	gpiotest.Pin
	mu     sync.Mutex
	highAt time.Time
	held   time.Duration
}

func (p *livePin) Out(l gpio.Level) error {
	p.mu.Lock()
	switch {
	case l == gpio.High && p.highAt.IsZero():
		p.highAt = time.Now()
	case l == gpio.Low && !p.highAt.IsZero():
		p.held, p.highAt = time.Since(p.highAt), time.Time{}
	}
	p.mu.Unlock()
	return p.Pin.Out(l)
}

// The gate stopping as a holder walks through: Close lets the pulse of the
// last allow run its course, within RelayDrain, then leaves the pin
// inactive and takes no more decisions.
func TestRelayCloseEndsThePulseInHand(t *testing.T) {
	pin := &livePin{Pin: gpiotest.Pin{N: "GPIO17"}}
	r, err := NewRelay(pin, false, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Act(context.Background(), outcome(true)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	pin.mu.Lock()
	held := pin.held
	pin.mu.Unlock()
	if held < 300*time.Millisecond || level(&pin.Pin) != gpio.Low {
		t.Errorf("the gate was held open %v, and is %v after Close; want the whole 300ms pulse, then low", held, level(&pin.Pin))
	}
	if err := r.Act(context.Background(), outcome(true)); err == nil || level(&pin.Pin) != gpio.Low {
		t.Errorf("an allow after Close: %v, pin %v; want an error and the gate shut", err, level(&pin.Pin))
	}

	// A pulse longer than RelayDrain is cut at RelayDrain.
	r, err = NewRelay(pin, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.drain = 50 * time.Millisecond
	r.Act(context.Background(), outcome(true))
	r.Close()
	if level(&pin.Pin) != gpio.Low {
		t.Error("an hour-long pulse outlived Close")
	}
}

// The JSON line (and so a hook's payload, the same Payload) holds
// nothing of the pass's ID, household or holder, in any form JSON gives
// bytes or text: as text, Base64 or hex.
func TestJSONLinesHasNoPersonalData(t *testing.T) {
	var b strings.Builder
	j := NewJSONLines(&b)
	o := outcome(true)
	if err := j.Act(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal([]byte(b.String()), &p); err != nil {
		t.Fatalf("not JSON: %q", b.String())
	}
	if !p.Allow || p.Seq != 7 || p.Direction != "exit" || p.Reason != "ok" || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("payload %+v", p)
	}
	pass := o.Decision.Pass
	for _, s := range [][]byte{pass.ID, pass.Household, []byte(pass.Holder)} {
		if len(s) == 0 {
			t.Fatal("control: the outcome's pass has an empty ID, household or holder")
		}
		if form, ok := privacytest.Holds(b.String(), s); ok {
			t.Errorf("%q (as %q) in the JSON line: %s", s, form, b.String())
		}
	}
}

func TestExecHook(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got.json")
	h, err := NewExecHook([]string{"sh", "-c", "cat > " + out}, time.Second, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Act(context.Background(), outcome(true)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Stats.Sent.Load() == 1 })
	b, _ := os.ReadFile(out)
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil || !p.Allow {
		t.Errorf("hook got %q: %v", b, err)
	}
}

// A hook that hangs never delays Act, and a full queue drops instead of
// waiting; a hook call that outlives its timeout is cut off and counted.
func TestSlowHooksNeverBlock(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	// Release the server's hung requests before it closes, on every path.
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock()

	// A timeout far longer than the test: were Act to wait for the call,
	// the 20 Acts below could not finish while the server holds it.
	h, err := NewHTTPHook(srv.URL, nil, time.Hour, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dropped int
	acted := make(chan struct{})
	go func() {
		defer close(acted)
		for range 20 {
			if err := h.Act(context.Background(), outcome(true)); err != nil {
				dropped++
			}
		}
	}()
	select {
	case <-acted:
	case <-time.After(30 * time.Second):
		t.Fatal("Act blocked on a hanging hook")
	}
	if dropped == 0 || h.Stats.Dropped.Load() != int64(dropped) {
		t.Errorf("dropped %d, counted %d", dropped, h.Stats.Dropped.Load())
	}
	waitFor(t, func() bool { return got.Load() >= 1 })
	unblock()
	h.Close()

	// A call that hangs past its timeout fails and is counted.
	slow, err := NewExecHook([]string{"sleep", "30"}, 100*time.Millisecond, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Act(context.Background(), outcome(true))
	waitFor(t, func() bool { return slow.Stats.Failed.Load() == 1 })
}

func TestHTTPHookStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	h, _ := NewHTTPHook(srv.URL, nil, time.Second, 4, nil)
	defer h.Close()
	h.Act(context.Background(), outcome(false))
	waitFor(t, func() bool { return h.Stats.Failed.Load() == 1 })
	if _, err := NewHTTPHook("::not a url", nil, 0, 0, nil); err == nil {
		t.Error("bad URL accepted")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Closing a hook sends the calls still queued: the last reads before a
// gate stops reach their hooks.
func TestHookCloseSendsQueued(t *testing.T) {
	dir := t.TempDir()
	out, gate := filepath.Join(dir, "calls"), filepath.Join(dir, "go")
	// Each call waits until the test lets it go, so the first is still
	// running when Close is called.
	h, err := NewExecHook([]string{"sh", "-c", "until [ -e " + gate + " ]; do sleep 0.01; done; cat >> " + out + "; echo >> " + out}, 5*time.Second, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := h.Act(context.Background(), outcome(true)); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	time.Sleep(100 * time.Millisecond)
	os.WriteFile(gate, nil, 0o644)
	<-closed
	b, _ := os.ReadFile(out)
	if n := strings.Count(string(b), "\n"); n != 5 || h.Stats.Sent.Load() != 5 {
		t.Errorf("%d calls made, %d counted sent; want 5", n, h.Stats.Sent.Load())
	}
	if err := h.Act(context.Background(), outcome(true)); err == nil || h.Stats.Dropped.Load() != 1 {
		t.Errorf("Act after Close: %v, dropped %d", err, h.Stats.Dropped.Load())
	}
}

// A writer that stops taking lines holds up Act only until its bound;
// later lines are dropped and counted until the write in hand ends, and
// the lines are whole and in order.
func TestJSONLinesStalledWriter(t *testing.T) {
	r, w := io.Pipe()
	j := NewJSONLines(w)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := j.Act(ctx, outcome(true)); err == nil {
		t.Fatal("a write nobody reads returned no error")
	}
	if err := j.Act(context.Background(), outcome(false)); err == nil || j.Dropped.Load() != 1 {
		t.Fatalf("second line while the first is stuck: %v, dropped %d", err, j.Dropped.Load())
	}
	// The reader comes back: the stuck line arrives whole, and lines flow.
	lines := make(chan string, 2)
	go func() {
		br := bufio.NewReader(r)
		for range 2 {
			l, _ := br.ReadString('\n')
			lines <- l
		}
	}()
	first := <-lines
	waitFor(t, func() bool { return len(j.busy) == 0 })
	if err := j.Act(context.Background(), outcome(false)); err != nil {
		t.Fatal(err)
	}
	second := <-lines
	var a, b Payload
	if json.Unmarshal([]byte(first), &a) != nil || json.Unmarshal([]byte(second), &b) != nil || !a.Allow || b.Allow {
		t.Errorf("lines %q %q", first, second)
	}
}

// The daemon's log on a stderr nobody reads holds a line up at most its
// bound; later lines are dropped at once and counted; the stuck line is
// the one written, though its buffer was used again since.
func TestLogWriterStalled(t *testing.T) {
	r, w := io.Pipe()
	l := NewLogWriter(w, 50*time.Millisecond)
	line := []byte("first\n")
	if _, err := l.Write(line); err == nil {
		t.Fatal("a write nobody reads returned no error")
	}
	copy(line, "reused")
	began := time.Now()
	for range 100 {
		if _, err := l.Write([]byte("dropped\n")); err == nil {
			t.Fatal("a line written past a stuck one")
		}
	}
	// Not a timing: a writer that waited its bound for each would take 5 s.
	if took := time.Since(began); took > 50*50*time.Millisecond || l.Dropped.Load() != 100 {
		t.Errorf("100 lines past a stuck one took %v, %d dropped; want at once, all", took, l.Dropped.Load())
	}
	br := bufio.NewReader(r)
	if got, _ := br.ReadString('\n'); got != "first\n" {
		t.Errorf("the stuck line arrived as %q", got)
	}
	waitFor(t, func() bool { return len(l.busy) == 0 })
	go l.Write([]byte("again\n"))
	if got, _ := br.ReadString('\n'); got != "again\n" {
		t.Errorf("the line after the stall: %q", got)
	}
}

// Two lanes writing to a slow but working stdout lose no line.
func TestJSONLinesTwoLanes(t *testing.T) {
	w := &slowWriter{delay: 2 * time.Millisecond}
	j := NewJSONLines(w)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if err := j.Act(ctx, outcome(true)); err != nil {
					t.Error(err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(w.String(), "\n"); n != 100 || j.Dropped.Load() != 0 {
		t.Errorf("%d lines written, %d dropped; want 100 and 0", n, j.Dropped.Load())
	}
}

type slowWriter struct {
	syncbuf.Buffer
	delay time.Duration
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	return w.Buffer.Write(p)
}

// Close ends within the drain even when the calls would take hours: the
// call under way is cut off, and the queued ones are dropped and counted.
func TestHookCloseIsBounded(t *testing.T) {
	h, err := NewExecHook([]string{"sleep", "3600"}, time.Hour, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.Act(context.Background(), outcome(true))
	}
	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(HookDrain + 15*time.Second):
		t.Fatal("Close still waiting well past the drain")
	}
	if f, d := h.Stats.Failed.Load(), h.Stats.Dropped.Load(); f+d != 3 || f < 1 {
		t.Errorf("failed %d, dropped %d; want the call under way failed and all 3 counted", f, d)
	}
}

// Every decision a hook takes (Act returns nil) is sent or failed, even
// when Act races Close. The race is narrow: it takes many rounds to hit
// (fewer under the race detector, which slows each round tenfold, and
// with -short, as under qemu, which slows it fivefold; scripts/test.sh
// runs the full count natively).
func TestHookActRacingClose(t *testing.T) {
	rounds := 2000
	if raceEnabled || testing.Short() {
		rounds = 200
	}
	lost := int64(0)
	for range rounds {
		h := newHook("t", time.Second, 1024, nil, func(context.Context, []byte) error { return nil })
		var taken atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for h.Act(context.Background(), outcome(true)) == nil {
					taken.Add(1)
				}
			})
		}
		time.Sleep(50 * time.Microsecond)
		h.Close()
		wg.Wait()
		lost += taken.Load() - h.Stats.Sent.Load() - h.Stats.Failed.Load()
	}
	if lost != 0 {
		t.Errorf("%d decisions taken but never sent nor failed", lost)
	}
}
