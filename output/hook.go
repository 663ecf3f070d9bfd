package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

func newHook(name string, timeout time.Duration, queue int, call func(context.Context, []byte) error) *hook {
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	if queue <= 0 {
		queue = DefaultHookQueue
	}
	h := &hook{name: name, timeout: timeout, call: call, queue: make(chan []byte, queue), stop: make(chan struct{}), logger: slog.Default()}
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

// NewExecHook returns a hook that runs argv[0] with argv[1:]. Each run is
// killed after timeout (zero: DefaultHookTimeout); at most queue decisions
// wait (zero: DefaultHookQueue).
func NewExecHook(argv []string, timeout time.Duration, queue int) (*ExecHook, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("exec hook: no command")
	}
	return &ExecHook{newHook("exec:"+argv[0], timeout, queue, func(ctx context.Context, body []byte) error {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin = bytes.NewReader(body)
		cmd.WaitDelay = time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %.200s", err, out)
		}
		return nil
	})}, nil
}

// HTTPHook POSTs each decision's JSON to a URL.
type HTTPHook struct{ *hook }

// NewHTTPHook returns a hook that POSTs to url with client (nil: a client
// with no redirects). Each request is cancelled after timeout.
func NewHTTPHook(url string, client *http.Client, timeout time.Duration, queue int) (*HTTPHook, error) {
	if _, err := http.NewRequest(http.MethodPost, url, nil); err != nil {
		return nil, fmt.Errorf("http hook: %w", err)
	}
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &HTTPHook{newHook("http:"+url, timeout, queue, func(ctx context.Context, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})}, nil
}
