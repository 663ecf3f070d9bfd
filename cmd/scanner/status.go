package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// statusReport is what scanner status prints.
type statusReport struct {
	Site      string          `json:"site"`
	Emergency emergencyStatus `json:"emergency"`
	Gate      *gateStatus     `json:"gate,omitempty"` // from a running daemon only
	Trust     []trustDoc      `json:"trust"`
	Files     []fileStat      `json:"files"`
	Log       logSummary      `json:"events"`
	Check     []checkStat     `json:"integrity_checks"`
}

// emergencyStatus says whether reads at exits are all allowed, and why.
type emergencyStatus struct {
	Switch  bool   `json:"switch"`            // switched on at the gate (scanner emergency)
	Policy  bool   `json:"policy"`            // the policy's emergency = true
	Problem string `json:"problem,omitempty"` // the switch file could not be read or written
}

// inputHealth is what an input's source reports of itself (the camera's
// Health, a reader's or folder's Stats), in one shape for every kind.
type inputHealth struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`            // camera, reader or folder
	State       string    `json:"state,omitempty"` // camera: idle, streaming, reopening or closed
	Mode        string    `json:"mode,omitempty"`  // camera: the format and size negotiated
	Reads       uint64    `json:"reads"`           // frames, lines or images handed to the gate
	Dropped     uint64    `json:"dropped"`         // bad or stale frames, lines dropped, files refused or unread
	Faults      uint64    `json:"faults"`          // camera: unplugs and stream restarts; reader: errors
	Reopens     uint64    `json:"reopens"`         // the device opened again after a fault
	LastFrame   time.Time `json:"last_frame,omitzero"`
	LastError   string    `json:"last_error,omitempty"` // never a payload or image content
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// On reports whether emergency mode is in effect.
func (e emergencyStatus) On() bool { return e.Switch || e.Policy }

// gateStatus is what a running daemon counts since it started.
type gateStatus struct {
	Since           time.Time `json:"running_since"`
	Inputs          []string  `json:"inputs"`
	Frames          int64     `json:"frames"`
	NoCode          int64     `json:"frames_without_code"`
	Decisions       int64     `json:"decisions"`
	Allowed         int64     `json:"allowed"`
	Denied          int64     `json:"denied"`
	Repeats         int64     `json:"repeats"`
	LogFailures     int64     `json:"log_failures"`
	Unlogged        int64     `json:"allowed_unlogged"`
	OutputErrors    int64     `json:"output_errors"`
	LogLinesDropped int64     `json:"log_lines_dropped"` // the daemon's own log, stderr stalled
	SourceErrors    int64     `json:"input_faults"`
	SigCacheHits    uint64    `json:"signature_cache_hits"` // verifications the cache saved
	SigCacheHeld    int       `json:"signatures_cached"`    // signatures it holds

	// What each input's source says of itself: an unplugged camera or a
	// reader at the wrong baud rate shows here.
	InputHealth []inputHealth `json:"input_health"`

	// The time the gate decides at now, and whether it is trusted.
	Time        time.Time `json:"time"`
	TimeTrusted bool      `json:"time_trusted"`
	// The state of a clock jump is not moved yet: reads are not logged.
	StateMovePending bool `json:"state_move_pending,omitempty"`
	// The last read decided at each input: what `override -read` names.
	LastReads []lastReadStatus `json:"last_reads,omitempty"`
}

// lastReadStatus is gate.LastRead for status: never whose the read was.
type lastReadStatus struct {
	Input      string  `json:"input"`
	Seq        uint64  `json:"seq"` // 0: not logged
	SecondsAgo float64 `json:"seconds_ago"`
	Allow      bool    `json:"allow"`
	Reason     string  `json:"reason"`
	Reversible bool    `json:"reversible"` // override -read SEQ reverses it now
}

type trustDoc struct {
	Kind     string    `json:"kind"`
	Name     string    `json:"name"`
	Version  uint64    `json:"version"`
	IssuedAt time.Time `json:"issued_at"`
	Age      string    `json:"age"`
	Stored   time.Time `json:"stored"`
	Error    string    `json:"error,omitempty"`
}

type fileStat struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	MaxSize int    `json:"max_size"`
	Schema  int    `json:"schema"`
}

type logSummary struct {
	Pending       uint64    `json:"pending"`
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	OldestAge     string    `json:"oldest_pending_age,omitempty"`
	AckedThrough  uint64    `json:"acked_through"`
	NextSeq       uint64    `json:"next_seq"`
	TimeFloor     time.Time `json:"time_floor,omitzero"` // absent: nothing logged yet
	Recoveries    uint64    `json:"recoveries"`
	FullErrors    uint64    `json:"full_errors"`
}

type checkStat struct {
	File string    `json:"file"`
	At   time.Time `json:"at"`
	OK   bool      `json:"ok"`
	Note string    `json:"note,omitempty"`
}

func (m *Main) status(args []string) error {
	fs := m.flags("status")
	cfgFile := fs.String("config", "/etc/checkpoint/scanner.toml", "the config `FILE`")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return hinted(fmt.Errorf("unexpected %q: status takes flags only", fs.Arg(0)), "scanner status -config FILE [-json]")
	}
	cfg, err := loadConfig(*cfgFile, "see configs/scanner.example.toml for every key")
	if err != nil {
		return err
	}
	// A running daemon holds the files: ask it.
	rep, err := askGate(cfg, controlRequest{Op: "status"})
	switch {
	case err == nil && rep.Status != nil:
		return m.printStatus(rep.Status, *asJSON)
	case err == nil:
		return errors.New("the daemon sent no status")
	case errors.Is(err, errOtherGate):
		fmt.Fprintf(m.Stderr, "scanner: warning: %v\n", err)
	case !errors.Is(err, errNoDaemon):
		return err
	}
	dataDir := cfg.dataDir()
	defer holdSignals()() // until the files are closed
	locked := func(err error) error {
		if errors.Is(err, store.ErrLocked) {
			return hinted(err, "the gate daemon holds the files but does not answer on %s; is control_socket the same in its config?", cfg.controlSocket())
		}
		return asGateUser(err, "status -config "+*cfgFile)
	}
	tc, err := store.OpenTrust(filepath.Join(dataDir, trustFile), store.TrustOptions{LockTimeout: time.Second})
	if err != nil {
		return locked(fmt.Errorf("open trust cache: %w", err))
	}
	defer tc.Close()
	events, err := store.OpenLog(filepath.Join(dataDir, logFile), store.LogOptions{Hub: cfg.hubSeal, LockTimeout: time.Second})
	if err != nil {
		return locked(fmt.Errorf("open event log: %w", err))
	}
	defer events.Close()
	trust := applyCached(m.loadTrust(cfg), tc, slog.New(slog.DiscardHandler))
	r, err := collectStatus(cfg.Site, trust, tc, events, m.Now())
	if err != nil {
		return err
	}
	em := loadEmergency(dataDir)
	r.Emergency = emergencyStatus{Switch: em.On(), Policy: effectivePolicy(cfg, trust).Emergency, Problem: em.Problem()}
	return m.printStatus(r, *asJSON)
}

func (m *Main) printStatus(r *statusReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printStatus(m.Stdout, r)
	return nil
}

// collectStatus reads the status of the open trust cache and event log;
// trust is the provisioned trust, to verify the cached documents with.
func collectStatus(site string, trust *scanner.Trust, tc *store.Trust, events *store.Log, now time.Time) (*statusReport, error) {
	ts, err := tc.Stats()
	if err != nil {
		return nil, err
	}
	ls, err := events.Stats()
	if err != nil {
		return nil, err
	}
	rep := &statusReport{Site: site}
	for _, d := range ts.Docs {
		raw, err := tc.Doc(d.Kind, d.Name)
		td := trustDoc{Kind: d.Kind, Name: d.Name, Stored: d.Written}
		if err == nil {
			td.Version, td.IssuedAt, err = docVersion(trust, d.Kind, raw)
		}
		if err != nil {
			td.Error = err.Error()
		} else {
			td.Age = age(now, td.IssuedAt)
		}
		rep.Trust = append(rep.Trust, td)
	}
	sort.Slice(rep.Trust, func(i, j int) bool { return rep.Trust[i].Kind+rep.Trust[i].Name < rep.Trust[j].Kind+rep.Trust[j].Name })
	rep.Files = []fileStat{
		{ts.Path, ts.FileSize, ts.MaxSize, ts.Schema},
		{ls.Path, ls.FileSize, ls.MaxSize, ls.Schema},
	}
	rep.Log = logSummary{Pending: ls.Pending, OldestPending: ls.OldestPending, AckedThrough: ls.AckedThrough,
		NextSeq: ls.NextSeq, TimeFloor: ls.TimeFloor, Recoveries: ls.Recoveries, FullErrors: ls.FullErrors}
	if !ls.OldestPending.IsZero() {
		rep.Log.OldestAge = age(now, ls.OldestPending)
	}
	for _, c := range []struct {
		file string
		r    store.CheckResult
	}{{ts.Path, ts.LastCheck}, {ls.Path, ls.LastCheck}} {
		note := fmt.Sprintf("ok in %v", c.r.Took.Round(time.Millisecond))
		if !c.r.OK {
			note = fmt.Sprintf("damaged: %s", strings.Join(c.r.Problems, "; "))
		}
		rep.Check = append(rep.Check, checkStat{File: c.file, At: c.r.At, OK: c.r.OK, Note: note})
	}
	return rep, nil
}

// docVersion parses a cached trust document for its version and issue time.
func docVersion(t *scanner.Trust, kind string, raw []byte) (uint64, time.Time, error) {
	switch kind {
	case "keyset":
		ks, err := scanner.ParseKeySet(raw, t.Root)
		if err != nil {
			return 0, time.Time{}, err
		}
		return ks.Version, time.Unix(ks.IssuedAt, 0).UTC(), nil
	case "status":
		l, err := scanner.ParseStatusList(raw, t.Root, t.Keys)
		if err != nil {
			return 0, time.Time{}, err
		}
		return l.Version, l.IssuedAt, nil
	case "policy":
		p, err := scanner.ParsePolicy(raw, t.Root, t.Keys)
		if err != nil {
			return 0, time.Time{}, err
		}
		return p.Version, time.Unix(p.IssuedAt, 0).UTC(), nil
	}
	return 0, time.Time{}, fmt.Errorf("unknown kind %q", kind)
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return now.Sub(t).Round(time.Second).String()
}

func printStatus(w io.Writer, r *statusReport) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "site\t%s\n", r.Site)
	if e := r.Emergency; e.On() {
		by := "switched on at the gate"
		if e.Policy {
			by = "the policy's emergency = true"
		}
		fmt.Fprintf(tw, "EMERGENCY MODE\tevery read at an exit is allowed (%s)\n", by)
	}
	if p := r.Emergency.Problem; p != "" {
		fmt.Fprintf(tw, "emergency switch\t%s\n", strings.TrimPrefix(p, "emergency switch "))
	}
	fmt.Fprintln(tw)
	if g := r.Gate; g != nil {
		fmt.Fprintf(tw, "running since\t%s\ninputs\t%s\n", g.Since.Format(time.RFC3339), strings.Join(g.Inputs, ", "))
		trust := "trusted"
		if !g.TimeTrusted {
			trust = "NOT TRUSTED: the time floor, a lower bound (clock_unknown applies)"
		}
		fmt.Fprintf(tw, "gate time\t%s, %s\n", g.Time.Format(time.RFC3339), trust)
		if g.StateMovePending {
			fmt.Fprintln(tw, "STATE MOVE PENDING\tthe state stamped before the clock's jump is not moved yet: reads are not logged (see log failures)")
		}
		fmt.Fprintf(tw, "decisions\t%d (%d allowed, %d denied)\nrepeats ignored\t%d\nframes\t%d (%d without a code)\n",
			g.Decisions, g.Allowed, g.Denied, g.Repeats, g.Frames, g.NoCode)
		fmt.Fprintf(tw, "log failures\t%d (%d allowed unlogged)\noutput errors\t%d\ninput faults\t%d\nsignature cache\t%d held, %d verifications saved\n",
			g.LogFailures, g.Unlogged, g.OutputErrors, g.SourceErrors, g.SigCacheHeld, g.SigCacheHits)
		if g.LogLinesDropped > 0 {
			fmt.Fprintf(tw, "daemon log lines dropped\t%d (stderr stalled)\n", g.LogLinesDropped)
		}
		for _, l := range g.LastReads {
			verdict := "denied"
			if l.Allow {
				verdict = "allowed"
			}
			how := ""
			if l.Reversible {
				how = fmt.Sprintf("; override -input %s -read %d reverses it", l.Input, l.Seq)
			}
			fmt.Fprintf(tw, "last read at %s\t%d, %s ago, %s (%s)%s\n", l.Input, l.Seq,
				(time.Duration(l.SecondsAgo) * time.Second).String(), verdict, l.Reason, how)
		}
		fmt.Fprintln(tw)
		if len(g.InputHealth) > 0 {
			fmt.Fprintln(tw, "input\tkind\tstate\treads\tdropped\tfaults\treopens\tlast error")
			for _, h := range g.InputHealth {
				state, last := strings.TrimSpace(h.State+" "+h.Mode), "-"
				if state == "" {
					state = "-"
				}
				if h.LastError != "" {
					last = h.LastError
					if !h.LastErrorAt.IsZero() {
						last += " (" + h.LastErrorAt.UTC().Format(time.RFC3339) + ")"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", h.Name, h.Kind, state, h.Reads, h.Dropped, h.Faults, h.Reopens, last)
			}
			fmt.Fprintln(tw)
		}
	}
	fmt.Fprintln(tw, "trust\tversion\tissued\tage\tstored")
	if len(r.Trust) == 0 {
		fmt.Fprintln(tw, "(none cached: the gate has not synced)")
	}
	for _, d := range r.Trust {
		if d.Error != "" {
			fmt.Fprintf(tw, "%s %s\t-\t-\t-\t%s (refused: %s)\n", d.Kind, d.Name, d.Stored.Format(time.RFC3339), d.Error)
			continue
		}
		fmt.Fprintf(tw, "%s %s\t%d\t%s\t%s\t%s\n", d.Kind, d.Name, d.Version, d.IssuedAt.Format(time.RFC3339), d.Age, d.Stored.Format(time.RFC3339))
	}
	fmt.Fprintln(tw)
	l := r.Log
	fmt.Fprintf(tw, "pending events\t%d\n", l.Pending)
	if l.OldestAge != "" {
		fmt.Fprintf(tw, "oldest pending\t%s (%s ago)\n", l.OldestPending.Format(time.RFC3339), l.OldestAge)
	}
	floor := "none yet (nothing logged)"
	if !l.TimeFloor.IsZero() {
		floor = l.TimeFloor.Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "acked through\t%d\nnext sequence\t%d\ntime floor\t%s\nlogs moved aside\t%d\nfull-disk refusals\t%d\n\n",
		l.AckedThrough, l.NextSeq, floor, l.Recoveries, l.FullErrors)
	fmt.Fprintln(tw, "file\tsize\tmax\tschema")
	for _, f := range r.Files {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", f.Path, f.Size, f.MaxSize, f.Schema)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "integrity check\tat\tresult")
	for _, c := range r.Check {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.File, c.At.Format(time.RFC3339), c.Note)
	}
	tw.Flush()
}
