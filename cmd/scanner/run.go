package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/output"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/camera"
	"github.com/checkpointgate/checkpoint/scanner/folder"
	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/scanner/reader"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// cameraDecodeBudget bounds the time spent decoding one camera frame, so
// the decoder keeps up at 30 frames a second (docs/qr.md, "Budget").
const cameraDecodeBudget = 20 * time.Millisecond

// Store file names in the data folder.
const (
	trustFile = "trust.db"
	logFile   = "events.db"
)

// logOptions are the event log's options for a gate under policy p: the
// gate state is kept for as long as the longest window of its rules looks
// back (and at least store.DefaultStateHorizon).
func logOptions(hub seal.PublicKey, p *scanner.Policy, logger *slog.Logger) store.LogOptions {
	return store.LogOptions{Hub: hub, Logger: logger, StateHorizon: max(store.DefaultStateHorizon, p.LongestWindow())}
}

func (m *Main) run(ctx context.Context, args []string) error {
	fs := m.flags("run")
	cfgFile := fs.String("config", "/etc/checkpoint/scanner.toml", "the config `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return hinted(errors.New("run takes no arguments"), "give the config with -config FILE")
	}
	cfg, err := loadConfig(*cfgFile, "see configs/scanner.example.toml for every key")
	if err != nil {
		return err
	}
	// The log waits on stderr for at most logBound a line: stderr is
	// often stdout's pipe (2>&1), and the gate logs there each line it
	// could not write to stdout.
	logOut := output.NewLogWriter(m.Stderr, logBound)
	logger := slog.New(slog.NewJSONHandler(logOut, nil))
	// Standard output going away (a pipe closed, journald restarted) must
	// not end the gate: with SIGPIPE taken (and let go), writes fail with
	// EPIPE instead, and are counted. Taken, not ignored: an ignored
	// signal would stay ignored in the hooks' commands. Taken for good,
	// not stopped when run returns: a line write stuck on a full pipe can
	// fail after that, and the default action would kill the process as
	// it exits.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	trust := m.loadTrust(cfg)
	dataDir := cfg.dataDir()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return hinted(err, "data_dir must be a folder the scanner can write")
	}
	tcache, err := store.OpenTrust(filepath.Join(dataDir, trustFile), store.TrustOptions{Logger: logger})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return hinted(err, "is this gate already running? scanner status -config %s", *cfgFile)
		}
		return asGateUser(err, "run -config "+*cfgFile)
	}
	defer tcache.Close()
	// Residents show the same pass day after day: remember the signatures
	// that verified (in memory only; see scanner.SigCache).
	sigs := scanner.NewSigCache(sigCacheSize)
	trust = applyCached(trust, tcache, logger).WithSigCache(sigs)
	policy := effectivePolicy(cfg, trust)
	events, err := store.OpenLog(filepath.Join(dataDir, logFile), logOptions(cfg.hubSeal, policy, logger))
	if err != nil {
		return fmt.Errorf("open event log: %w", err)
	}
	defer events.Close()

	// Emergency mode switched at the gate allows every read at an exit
	// whatever the policy says. A switch file that cannot be read is
	// taken as off and said loudly; the gate runs on.
	emergency := loadEmergency(dataDir)
	if p := emergency.Problem(); p != "" {
		logger.Error("emergency switch unreadable", "problem", p, "hint", "scanner emergency -config FILE on|off writes it again")
	}
	if emergency.On() {
		logger.Warn("emergency mode is on (switched at the gate): every read at an exit is allowed")
	} else if policy.Emergency {
		logger.Warn("emergency mode is on (the policy's emergency = true): every read at an exit is allowed")
	}
	if !slices.ContainsFunc(cfg.Inputs, func(in InputConfig) bool { return in.Direction == scanner.Exit }) {
		logger.Info("no exit input: emergency mode changes nothing at this gate")
	}
	inEmergency := emergencyPolicy(policy)
	// The build time is a floor too: this binary cannot run before it. The
	// state an earlier run stamped under an untrusted clock, below it,
	// moves up to it (Clock.RaiseFloor).
	clock := gate.NewClock(events.TimeFloor())
	clock.RaiseFloor(buildTime())
	clock.Synced = systemClockSynced
	if cfg.TrustSystemClock {
		clock.Synced = func() bool { return true }
	}
	var trustNow atomic.Pointer[scanner.Trust]
	trustNow.Store(trust)
	freshTrust := freshener(&trustNow, clock)
	freshTrust()
	g := &gate.Gate{
		Site: cfg.Site, Log: events, Memory: events, Clock: clock, Logger: logger,
		Trust: freshTrust,
		Policy: func() *scanner.Policy {
			if emergency.On() {
				return inEmergency
			}
			return policy
		},
	}
	if cfg.OnLogFailure == "open" {
		g.OnLogFailure = gate.FailOpen
	}
	// The outputs are closed together at stop: the relay lets its pulse
	// run out and shuts the gate, each hook sends what it has queued; each
	// within 5 s (RelayDrain, HookDrain) of the stop.
	var closers []func()
	defer func() {
		var wg sync.WaitGroup
		for _, c := range closers {
			wg.Go(c)
		}
		wg.Wait()
	}()
	if r := cfg.Relay; r != nil {
		relay, err := output.OpenRelay(r.Pin, r.ActiveLow, r.Pulse)
		if err != nil {
			return hinted(err, "check [relay] pin, or remove [relay] on a machine without GPIO")
		}
		relay.Logger = logger
		closers = append(closers, func() {
			if err := relay.Close(); err != nil {
				logger.Error("the gate may be left open", "err", err)
			}
		})
		g.Outputs = append(g.Outputs, relay)
	}
	for _, h := range cfg.Hooks {
		var out interface {
			gate.Output
			Close() error
		}
		if h.URL != "" {
			out, err = output.NewHTTPHook(h.URL, nil, h.Timeout, 0, logger)
		} else {
			out, err = output.NewExecHook(cfg.command(h.Exec), h.Timeout, 0, logger)
		}
		if err != nil {
			return err
		}
		closers = append(closers, func() { out.Close() })
		g.Outputs = append(g.Outputs, out)
	}
	// Actuate, then show: the relay and the hooks (queued at once) come
	// before the line on stdout, which may wait for its reader.
	if cfg.JSONLines == nil || *cfg.JSONLines {
		g.Outputs = append(g.Outputs, output.NewJSONLines(m.Stdout))
	}
	inputs, err := m.openInputs(cfg)
	if err != nil {
		return err
	}
	defer func() {
		for _, in := range inputs {
			in.Source.Close()
		}
	}()
	started := time.Now()
	// Without its control socket the gate still lets people through: it
	// says so and goes on.
	ln, err := listenControl(cfg.controlSocket())
	if err != nil {
		logger.Error("no control socket: scanner override, scanner emergency and live status are off", "err", err,
			"hint", "set control_socket to a path the scanner can create, of at most 107 bytes")
	}
	ctl := &controlServer{
		ln: ln, gate: g, inputs: inputs, logger: logger, allowedUID: sameUserOrRoot,
		emergency: emergency, policyEmergency: policy.Emergency, dataDir: cfg.gateID(),
		status: func() (*statusReport, error) {
			rep, err := collectStatus(cfg.Site, trustNow.Load(), tcache, events, clock.Now().Wall)
			if err != nil {
				return nil, err
			}
			rep.Gate = gateStatusOf(g, inputs, started, sigs, logOut)
			rep.Emergency = emergencyStatus{Switch: emergency.On(), Policy: policy.Emergency, Problem: emergency.Problem()}
			return rep, nil
		},
	}
	logger.Info("gate running", "site", cfg.Site, "inputs", len(inputs), "policy_version", policy.Version)
	// Beside the inputs: the time floor and the control socket, until the
	// inputs are done.
	sideCtx, stopSide := context.WithCancel(ctx)
	var side sync.WaitGroup
	// The floor raised to the build time reaches the log now, not at the
	// first read: keepFloor runs on from the log's floor.
	g.TakeJumps()
	side.Go(func() { keepFloor(sideCtx, events, g.KeepTime, floorInterval, logger) })
	if ln != nil {
		side.Go(func() { ctl.serve(sideCtx) })
	}
	err = g.Run(ctx, inputs)
	stopSide()
	side.Wait()
	logger.Info("gate stopped", "decisions", g.Stats.Decisions.Load(), "allowed", g.Stats.Allowed.Load(),
		"denied", g.Stats.Denied.Load(), "log_failures", g.Stats.LogFailures.Load(), "signature_cache_hits", sigs.Hits())
	return err
}

// logBound is how long a line of the daemon's log may wait on stderr;
// a healthy pipe or journal takes microseconds.
const logBound = 500 * time.Millisecond

// sigCacheSize is how many verified pass signatures the daemon remembers:
// every resident of a large compound, at 64 bytes or so each.
const sigCacheSize = 8192

// gateStatusOf reads the gate's counters, and those of the daemon's log.
func gateStatusOf(g *gate.Gate, inputs []gate.Input, since time.Time, sigs *scanner.SigCache, log *output.LogWriter) *gateStatus {
	st := &g.Stats
	now := g.Clock.Now()
	return &gateStatus{
		Time: now.Wall.UTC(), TimeTrusted: now.Trusted, StateMovePending: st.StateMovePending.Load(),
		Since: since.UTC(), Inputs: inputNames(inputs),
		Frames: st.Frames.Load(), NoCode: st.NoCode.Load(), Decisions: st.Decisions.Load(),
		Allowed: st.Allowed.Load(), Denied: st.Denied.Load(), Repeats: st.Repeats.Load(),
		LogFailures: st.LogFailures.Load(), Unlogged: st.Unlogged.Load(),
		OutputErrors: st.OutputErrors.Load(), SourceErrors: st.SourceErrors.Load(),
		SigCacheHits: sigs.Hits(), SigCacheHeld: sigs.Len(), LogLinesDropped: log.Dropped.Load(),
		LastReads: lastReadsOf(g), InputHealth: inputHealthOf(inputs),
	}
}

// inputHealthOf asks each input's source how it fares.
func inputHealthOf(inputs []gate.Input) []inputHealth {
	var out []inputHealth
	for _, in := range inputs {
		h := inputHealth{Name: in.Name}
		switch src := in.Source.(type) {
		case *camera.Camera:
			c := src.Health()
			h.Kind, h.State, h.Mode = "camera", string(c.State), c.Mode
			h.Reads, h.Dropped, h.Faults, h.Reopens = c.Frames, c.Bad+c.Stale, c.Unplugs+c.Restarts, c.Reopens
			h.LastFrame, h.LastError, h.LastErrorAt = c.LastFrame, c.LastError, c.LastErrorAt
		case *reader.Reader:
			r := src.Stats()
			h.Kind = "reader"
			h.Reads, h.Faults, h.Reopens, h.LastError = r.Lines, r.Faults, r.Reopens, r.LastError
			for _, n := range r.Dropped {
				h.Dropped += n
			}
		case *folder.Folder:
			f := src.Stats()
			h.Kind = "folder"
			h.Reads, h.Dropped, h.LastError = f.Images, f.Refused+f.Failed, f.LastError
		default:
			continue
		}
		out = append(out, h)
	}
	return out
}

func lastReadsOf(g *gate.Gate) []lastReadStatus {
	var out []lastReadStatus
	for _, l := range g.LastReads() {
		out = append(out, lastReadStatus{Input: l.Input, Seq: l.Seq, SecondsAgo: l.Ago.Truncate(time.Second).Seconds(),
			Allow: l.Allow, Reason: string(l.Reason), Reversible: l.Reversible})
	}
	return out
}

// freshener returns the gate's current trust, from trust, with FreshAt
// moved on as far as its signed documents say, never past the clock's time
// (max_trust_age counts from there), until the hub confirms it current.
// Before trusted time the clock's time is the floor, which may be weeks
// behind: FreshAt follows the floor, and the first trusted reading settles
// it. After that it moves no more (a document dated ahead does not keep
// the trust fresh as time goes by) until other documents are stored.
func freshener(trust *atomic.Pointer[scanner.Trust], clock *gate.Clock) func() *scanner.Trust {
	var mu sync.Mutex
	var settled *scanner.Trust // the trust a trusted reading last capped
	return func() *scanner.Trust {
		mu.Lock()
		defer mu.Unlock()
		old := trust.Load()
		if old == settled {
			return old
		}
		m := clock.Now()
		t := old.WithFreshAt(old.SignedAt(m.Wall))
		if t != old && !trust.CompareAndSwap(old, t) {
			return trust.Load() // other documents came meanwhile
		}
		if m.Trusted {
			settled = t
		}
		return t
	}
}

// floorInterval is how often the daemon commits a new time floor when no
// read does: a lost power cut costs at most this much of the floor, and
// the commits are few enough to spare the SD card.
var floorInterval = 5 * time.Minute

// keepFloor raises the store's time floor every interval until ctx ends:
// to the clock's time when the gate trusts it (keepTime, Gate.KeepTime, as
// a read's commit would), and by the time that really passed (the
// monotonic clock) since the floor it last saw. So a gate that had trusted
// time, or saw no one for a day, and then lost power and its clock still
// starts from a recent floor. It never follows an untrusted wall clock: a
// clock that jumps forward unsynchronised cannot push the floor past
// passes that are still valid.
func keepFloor(ctx context.Context, events interface {
	TimeFloor() time.Time
	RaiseTimeFloor(time.Time) error
}, keepTime func() error, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	floor, at := events.TimeFloor(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := keepTime(); err != nil {
				logger.Warn("could not raise the time floor to the trusted time", "err", err)
			}
			now := time.Now()
			if err := events.RaiseTimeFloor(floor.Add(now.Sub(at))); err != nil {
				logger.Warn("could not raise the time floor", "err", err)
			}
			floor, at = events.TimeFloor(), now
		}
	}
}

// loadTrust builds the trust the config provisions: the root key and any
// directly trusted issuer keys, each for its issuer (or, unnamed, any).
func (m *Main) loadTrust(cfg *Config) *scanner.Trust {
	t := scanner.NewTrust(cfg.root)
	if len(cfg.issuers) > 0 {
		ks := &scanner.KeySet{}
		for _, k := range cfg.issuers {
			ks.Keys = append(ks.Keys, scanner.Key{ID: scanner.KeyID(k.key), Public: k.key, Role: scanner.RolePassIssuer, Issuer: k.issuer})
		}
		t.Keys = ks
	}
	return t
}

// applyCached adds the signed documents of the trust cache. A document that
// no longer verifies is skipped and logged; sync fetches it again.
func applyCached(t *scanner.Trust, c *store.Trust, logger *slog.Logger) *scanner.Trust {
	apply := func(kind string, with func([]byte) (*scanner.Trust, error)) {
		docs, err := c.Docs(kind)
		if err != nil {
			logger.Warn("trust cache unreadable", "kind", kind, "err", err)
			return
		}
		for name, raw := range docs {
			nt, err := with(raw)
			if err != nil {
				logger.Warn("cached trust document refused", "kind", kind, "name", name, "err", err)
				continue
			}
			t = nt
		}
	}
	if t.Root != nil {
		apply("keyset", func(raw []byte) (*scanner.Trust, error) { return t.WithKeySet(raw) })
		apply("status", func(raw []byte) (*scanner.Trust, error) { return t.WithStatusList(raw) })
		apply("policy", func(raw []byte) (*scanner.Trust, error) { return t.WithPolicy(raw) })
	}
	return t
}

func (m *Main) openInputs(cfg *Config) ([]gate.Input, error) {
	var inputs []gate.Input
	for _, ic := range cfg.Inputs {
		var (
			src scanner.Source
			err error
		)
		switch ic.Kind {
		case "folder":
			src, err = folder.Open(folder.Config{Path: cfg.path(ic.Path), Loop: ic.Loop})
		case "stdin":
			src, err = reader.NewLines(m.Stdin, "stdin", reader.Config{})
		case "keyboard":
			src, err = reader.NewKeyboard(cfg.devicePath(ic.Path), reader.Config{})
		case "serial":
			src, err = reader.NewSerial(cfg.devicePath(ic.Path), reader.Config{Baud: ic.Baud})
		case "camera":
			src, err = camera.New(camera.Config{Device: cfg.devicePath(ic.Path), Width: ic.Width, Height: ic.Height, FPS: ic.FPS})
		}
		if err != nil {
			for _, in := range inputs {
				in.Source.Close()
			}
			return nil, hinted(fmt.Errorf("input %s: %w", ic.Name, err), "check the [[input]] kind and path")
		}
		d := qr.NewDecoder() // one per input: it remembers where the last code was
		if ic.Kind == "camera" {
			// A live camera must keep up with its frames: most frames hold
			// no code, and without a budget such a frame runs every strategy.
			d.Budget = cameraDecodeBudget
		}
		inputs = append(inputs, gate.Input{Name: ic.Name, Direction: ic.Direction, Source: src, Decoder: qrDecoder{d}})
	}
	return inputs, nil
}

// qrDecoder is a gate.ContextDecoder over a qr.Decoder: at a stop, the
// gate gives up a frame at the decoder's next strategy.
type qrDecoder struct{ d *qr.Decoder }

var _ gate.ContextDecoder = qrDecoder{}

func (q qrDecoder) Decode(img *image.Gray) (string, error) {
	return q.DecodeContext(context.Background(), img)
}

func (q qrDecoder) DecodeContext(ctx context.Context, img *image.Gray) (string, error) {
	r, err := q.d.DecodeContext(ctx, img)
	return r.Text, err
}

// readSealKey reads the hub's sealing key from a file, or takes the value
// itself when it is a key.
func readSealKey(file, value string) (seal.PublicKey, error) {
	text := value
	if !strings.HasPrefix(value, "cpseal-pub-") {
		f, err := os.Open(file)
		if err != nil {
			return seal.PublicKey{}, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 1024))
		if err != nil {
			return seal.PublicKey{}, err
		}
		text = strings.TrimSpace(string(b))
	}
	return seal.ParsePublicKey(text)
}

// buildTime is a floor for the clock: this binary cannot run before it was
// built. It is the commit time stamped into the binary, when there is one.
var buildTime = func() time.Time {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return time.Time{}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.time" {
			t, _ := time.Parse(time.RFC3339, s.Value)
			return t
		}
	}
	return time.Time{}
}
