package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
)

// Hook defaults.
const (
	DefaultHookTimeout = 2 * time.Second
	DefaultHookQueue   = 32

	// HookDrain bounds the time Close spends on the calls still queued.
	HookDrain = 5 * time.Second
)

// HookStats counts a hook's calls.
type HookStats struct {
	Sent, Failed, Dropped atomic.Int64
}

// hook runs calls from a bounded queue on one worker.
type hook struct {
	name    string
	timeout time.Duration
	call    func(ctx context.Context, body []byte) error
	queue   chan []byte
	logger  *slog.Logger

	// base bounds every call; Close cancels it HookDrain after it began.
	base   context.Context
	cancel context.CancelFunc

	mu     sync.RWMutex // Act holds it to queue, Close to close
	closed bool
	stop   chan struct{}
	done   sync.WaitGroup
	Stats  HookStats
}

func newHook(name string, timeout time.Duration, queue int, logger *slog.Logger, call func(context.Context, []byte) error) *hook {
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	if queue <= 0 {
		queue = DefaultHookQueue
	}
	if logger == nil {
		logger = slog.Default()
	}
	h := &hook{name: name, timeout: timeout, call: call, queue: make(chan []byte, queue), stop: make(chan struct{}), logger: logger}
	h.base, h.cancel = context.WithCancel(context.Background())
	h.done.Add(1)
	go h.run()
	return h
}

func (h *hook) Name() string { return h.name }

// Act queues the decision and returns at once; a full queue drops it.
func (h *hook) Act(_ context.Context, o *gate.Outcome) error {
	b, err := marshal(o)
	if err != nil {
		return err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		h.Stats.Dropped.Add(1)
		return fmt.Errorf("%s: closed, decision %d dropped", h.name, o.Seq)
	}
	select {
	case h.queue <- b:
		return nil
	default:
		h.Stats.Dropped.Add(1)
		return fmt.Errorf("%s: queue full, decision %d dropped", h.name, o.Seq)
	}
}

func (h *hook) run() {
	defer h.done.Done()
	for {
		select {
		case <-h.stop:
			h.drain()
			return
		case b := <-h.queue:
			h.send(b)
		}
	}
}

// drain sends the calls still queued while the drain lasts; those left
// are dropped and counted.
func (h *hook) drain() {
	for {
		select {
		case b := <-h.queue:
			if h.base.Err() != nil {
				h.Stats.Dropped.Add(1)
				h.logger.Warn("hook call dropped at close", "hook", h.name)
				continue
			}
			h.send(b)
		default:
			return
		}
	}
}

// send makes one call, within the hook's timeout and the drain.
func (h *hook) send(b []byte) {
	ctx, cancel := context.WithTimeout(h.base, h.timeout)
	err := h.call(ctx, b)
	cancel()
	if err != nil {
		h.Stats.Failed.Add(1)
		h.logger.Warn("hook failed", "hook", h.name, "err", err)
	} else {
		h.Stats.Sent.Add(1)
	}
}

// Close stops taking decisions and sends those already queued, each within
// the hook's timeout; HookDrain after Close began, the call under way is
// cut off and the rest are dropped and counted. The read in hand when a
// gate stops thus still reaches its hooks.
func (h *hook) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.stop)
	h.mu.Unlock()
	drain := time.AfterFunc(HookDrain, h.cancel)
	defer drain.Stop()
	h.done.Wait()
	h.cancel()
	return nil
}

// ExecHook runs a command for each decision with the decision's JSON on its
// standard input.
type ExecHook struct{ *hook }

// hookOutput is how much of a failed command's output its error quotes;
// the rest is read and thrown away.
const hookOutput = 200

// NewExecHook returns a hook that runs argv[0] with argv[1:]. Each run is
// killed after timeout (zero: DefaultHookTimeout); at most queue decisions
// wait (zero: DefaultHookQueue). Failures are logged to logger (nil:
// slog.Default()).
//
// Each run is a process group of its own: when the run ends or times out,
// whatever it started and left running (a helper waiting on a dead host)
// is killed with it, so calls do not pile up as processes. A process that
// leaves the group (setsid) is not killed, and its call waits WaitDelay
// (1 s) more for it to let go of the output. Of the output, only the first
// 200 bytes are kept, for the error.
func NewExecHook(argv []string, timeout time.Duration, queue int, logger *slog.Logger) (*ExecHook, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("exec hook: no command")
	}
	return &ExecHook{newHook("exec:"+argv[0], timeout, queue, logger, func(ctx context.Context, body []byte) error {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin = bytes.NewReader(body)
		cmd.WaitDelay = time.Second
		out, err := runOwnGroup(cmd)
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})}, nil
}

// runOwnGroup runs cmd as the leader of a process group of its own, kills
// what is left of the group once cmd has exited, and returns the first
// hookOutput bytes of its output (stdout and stderr together).
//
// The output goes through a pipe of our own, not exec's: exec waits, after
// the command exited, for every process holding its output open (a helper
// left in the background) before Wait returns, so the group could not be
// killed until then.
func runOwnGroup(cmd *exec.Cmd) ([]byte, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	killRest := ownGroup(cmd)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return nil, err
	}
	out := make(chan []byte, 1)
	go func() {
		b := make([]byte, 0, hookOutput)
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			b = append(b, buf[:min(n, cap(b)-len(b))]...)
			if err != nil {
				out <- b
				return
			}
		}
	}()
	err = cmd.Wait()
	killRest()
	select {
	case b := <-out:
		return b, err
	case <-time.After(cmd.WaitDelay):
		pr.Close() // a process that left the group holds the pipe
		return <-out, err
	}
}

// HTTPHook POSTs each decision's JSON to a URL.
type HTTPHook struct{ *hook }

// NewHTTPHook returns a hook that POSTs to rawURL through rt (nil:
// http.DefaultTransport), with the URL's user and password, if any, as
// basic authentication. Redirects are not followed (a 3xx is a failure).
// Each request is cancelled after timeout. Failures are logged to logger
// (nil: slog.Default()), naming the URL without its user, password, query
// or fragment, which may hold credentials; the errors quote no URL.
func NewHTTPHook(rawURL string, rt http.RoundTripper, timeout time.Duration, queue int, logger *slog.Logger) (*HTTPHook, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("http hook: the URL: %w", withoutURL(err))
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	name := "http:" + redactURL(u)
	return &HTTPHook{newHook(name, timeout, queue, logger, func(ctx context.Context, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
		if err != nil {
			return withoutURL(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if u.User != nil {
			pw, _ := u.User.Password()
			req.SetBasicAuth(u.User.Username(), pw)
		}
		// The transport itself, not a Client: a Client parses a
		// redirect's Location before any policy can refuse it, and its
		// errors quote the URL.
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return withoutURL(err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})}, nil
}

// withoutURL returns err without the URL a *url.Error quotes.
func withoutURL(err error) error {
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

// redactURL returns u as it may be logged: without user, password, query
// or fragment.
func redactURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}
