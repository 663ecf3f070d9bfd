package output

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/internal/syncbuf"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// logBuffer is a logger's output, safe for the hooks' workers to write.
type logBuffer struct{ syncbuf.Buffer }

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

// Of what a hook prints, the daemon keeps 200 bytes: a hook that floods its
// output does not grow the daemon's memory by what it printed.
func TestExecHookOutputIsBounded(t *testing.T) {
	var logs logBuffer
	h, err := NewExecHook([]string{"sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' x; exit 3"}, 30*time.Second, 1, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h.Act(context.Background(), outcome(true))
	waitFor(t, func() bool { return h.Stats.Failed.Load() == 1 })
	runtime.ReadMemStats(&after)
	h.Close() // the failure logged
	if grew := (after.TotalAlloc - before.TotalAlloc) >> 20; grew > 16 {
		t.Errorf("one call that printed 100 MB made the daemon allocate %d MiB", grew)
	}
	if got := logs.String(); !strings.Contains(got, "exit status 3: "+strings.Repeat("x", hookOutput)+`"`) {
		t.Errorf("the failure's log line does not quote the first %d bytes of the output: %.400s", hookOutput, got)
	}
}

// A hook URL's user, password and query never reach the daemon's log, in
// the hook's name or in an error (nor a redirect's Location); the user and
// password still authenticate the request.
func TestHTTPHookLogsNoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); ok && user == "gate" && pw == "s3cret-pw" && r.URL.Query().Get("token") == "s3cret-token" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://gate:s3cret-pw@hub.example/%zz?token=s3cret-token")
		w.WriteHeader(http.StatusFound)
	}))
	defer moved.Close()
	var logs logBuffer
	authed := strings.Replace(srv.URL, "http://", "http://gate:s3cret-pw@", 1) + "/decision?token=s3cret-token#s3cret"
	h, err := NewHTTPHook(authed, nil, time.Second, 1, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	h.Act(context.Background(), outcome(true))
	waitFor(t, func() bool { return h.Stats.Sent.Load()+h.Stats.Failed.Load() == 1 })
	h.Close()
	if h.Stats.Sent.Load() != 1 {
		t.Errorf("the URL's user and password did not authenticate the request: %s", logs.String())
	}
	for _, u := range []string{
		strings.Replace(srv.URL, "http://", "http://gate:wrong-s3cret@", 1) + "/decision?token=s3cret-token#s3cret",
		"http://gate:s3cret-pw@127.0.0.1:1/decision?token=s3cret-token", // refused: the error quotes the URL
		moved.URL + "/decision?token=s3cret-token",                      // a Location that does not parse
	} {
		h, err := NewHTTPHook(u, nil, time.Second, 1, logs.logger())
		if err != nil {
			t.Fatal(err)
		}
		h.Act(context.Background(), outcome(true))
		waitFor(t, func() bool { return h.Stats.Failed.Load() == 1 })
		h.Close()
	}
	if _, err := NewHTTPHook("http://gate:s3cret-pw@host/\x7f?token=s3cret", nil, 0, 0, nil); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a URL that does not parse: %v", err)
	}
	got := logs.String()
	if strings.Contains(got, "s3cret") || strings.Count(got, `"hook failed"`) != 3 || !strings.Contains(got, `"hook":"http:http://`+srv.Listener.Addr().String()+`/decision"`) {
		t.Errorf("log:\n%s", got)
	}
}

// flakyPin fails its next failLow writes of the inactive level, as a GPIO
// line that gives an I/O error.
type flakyPin struct {
	gpiotest.Pin
	failLow atomic.Int32
}

func (p *flakyPin) Out(l gpio.Level) error {
	if l == gpio.Low && p.failLow.Add(-1) >= 0 {
		return errors.New("gpio17: input/output error")
	}
	return p.Pin.Out(l)
}

// A write that should end a pulse and fails is tried again, and logged:
// the strike is not left energised (the gate open) until the next allow.
// Close, too, tries again.
func TestRelayRetriesShuttingTheGate(t *testing.T) {
	pin := &flakyPin{Pin: gpiotest.Pin{N: "GPIO17"}}
	r, err := NewRelay(pin, false, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	r.Logger = logs.logger()
	pin.failLow.Store(3)
	if err := r.Act(context.Background(), outcome(true)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return level(&pin.Pin) == gpio.Low })
	r.Close() // after the retry that shut the gate has logged (it holds the relay)
	if got := logs.String(); strings.Count(got, "could not shut the gate") != 1 || !strings.Contains(got, `"failed_tries":3`) {
		t.Errorf("log:\n%s", got)
	}

	// Close waits out the pulse and tries to shut the gate within one
	// RelayDrain in all, not one for each: the hour's pulse takes the
	// whole drain, which leaves time for one try, however slow the
	// machine (a drain of their own would give the tries ten, one every
	// relayRetry).
	r, _ = NewRelay(pin, false, time.Hour)
	r.Act(context.Background(), outcome(true))
	const dead = 1 << 30
	pin.failLow.Store(dead) // the line is gone for good
	r.drain = time.Second
	if err := r.Close(); err == nil || !strings.Contains(err.Error(), "could not shut the gate") {
		t.Errorf("Close with a dead line: %v", err)
	}
	if tries := dead - pin.failLow.Load(); tries != 1 {
		t.Errorf("Close tried %d times once the pulse had taken its drain of 1s; want 1", tries)
	}
	pin.failLow.Store(0)
	r, _ = NewRelay(pin, false, 50*time.Millisecond)
	r.Act(context.Background(), outcome(true))
	pin.failLow.Store(2)
	if err := r.Close(); err != nil || level(&pin.Pin) != gpio.Low {
		t.Errorf("Close through two failed writes: %v, pin %v", err, level(&pin.Pin))
	}
}
